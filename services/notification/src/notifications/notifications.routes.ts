import type { FastifyPluginAsync } from 'fastify';
import type { Kysely } from 'kysely';
import { Type, type Static } from 'typebox';
import { Identifier } from '@platform/contracts';
import type { NotificationDatabase } from '../database.js';
import { listNotifications } from './notifications.repository.js';

const NotificationsQuery = Type.Object({ order_id: Identifier('The order whose notifications to list') });

/** Read-only notifications of an order for operators and tests (SPEC §2); an unknown order has none. */
export const notificationsRoutes: FastifyPluginAsync<{ db: Kysely<NotificationDatabase> }> = async (
  app,
  { db },
) => {
  app.get<{ Querystring: Static<typeof NotificationsQuery> }>(
    '/notifications',
    { schema: { querystring: NotificationsQuery } },
    async (request) => listNotifications(db, request.query.order_id),
  );
};
