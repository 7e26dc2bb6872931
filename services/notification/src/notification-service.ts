import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { EventConsumer, EventHandler } from '@platform/messaging';
import type { Logger } from '@platform/observability';
import {
  buildServiceApp,
  handleThroughInbox,
  openServiceHost,
  routeEvents,
  type ServiceHost,
} from '@platform/service-host';
import type { NotificationConfig } from './config.js';
import type { NotificationDatabase } from './database.js';
import { notificationsRoutes } from './notifications/notifications.routes.js';
import { composeNotice, NOTIFICATION_KINDS, notifyCustomer } from './notifications/notify-customer.js';

/** A wired notification service: its HTTP app (not listening yet) and what runs beside it. */
export interface NotificationService {
  app: FastifyInstance;
  host: ServiceHost<NotificationDatabase>;
  consumer: EventConsumer;
  stop(): Promise<void>;
}

/**
 * Notifies through the inbox, and writes the "sent" line only after the record is committed and only for
 * the delivery that stored it: a rolled-back or duplicate delivery must not tell the customer twice.
 */
function notifyOnEvent(db: Kysely<NotificationDatabase>): EventHandler {
  return handleThroughInbox(db, 'notification', notifyCustomer, (outcome, order, { logger }, event) => {
    if (outcome !== 'sent') return;
    const { order_id, kind, recipient, message } = composeNotice(order, event);
    logger.info({ order_id, kind, recipient, message }, 'notification sent');
  });
}

/** Prepares the database and starts consuming the events the customer hears about. */
export async function createNotificationService(
  config: NotificationConfig,
  logger: Logger,
): Promise<NotificationService> {
  const host = await openServiceHost<NotificationDatabase>({
    service: 'notification',
    config,
    moduleUrl: import.meta.url,
    logger,
  });
  const { db } = host;
  const notify = notifyOnEvent(db);
  const consumer = host.consume(
    routeEvents(Object.fromEntries(NOTIFICATION_KINDS.map((kind) => [kind, notify]))),
  );
  const app = await buildServiceApp({ ...host, logger });
  await app.register(notificationsRoutes, { db });
  return {
    app,
    host,
    consumer,
    async stop() {
      await app.close();
      await host.stop();
    },
  };
}
