import { authenticate, createTokenVerifier } from '@platform/auth';
import type { FastifyInstance } from 'fastify';
import type { EventConsumer } from '@platform/messaging';
import type { Logger } from '@platform/observability';
import { buildServiceApp } from '@platform/http-shell';
import { handleSagaEvents, openServiceHost, type ServiceHost } from '@platform/service-host';
import type { NotificationConfig } from './config.js';
import type { NotificationDatabase } from './database.js';
import { notificationsRoutes } from './notifications/notifications.routes.js';
import { NOTIFICATION_KINDS } from './notifications/compose-notice.js';
import { loadNotified, notifyCustomers } from './notifications/notify-customer.js';

/** A wired notification service: its HTTP app (not listening yet) and what runs beside it. */
export interface NotificationService {
  app: FastifyInstance;
  host: ServiceHost<NotificationDatabase, 'notification'>;
  consumer: EventConsumer;
  stop(): Promise<void>;
}

/** Prepares the database and starts consuming the events the customer hears about. */
export async function createNotificationService(
  config: NotificationConfig,
  logger: Logger,
): Promise<NotificationService> {
  const host = await openServiceHost<NotificationDatabase, 'notification'>({
    service: 'notification',
    config,
    moduleUrl: import.meta.url,
    logger,
  });
  const { db } = host;
  const consumer = host.consume(
    handleSagaEvents({
      logger,
      transact: host.transact,
      consumer: 'notification',
      types: NOTIFICATION_KINDS,
      load: loadNotified,
      apply: notifyCustomers,
      // The "sent" line is written only after the record is committed, and only for the delivery that
      // stored it: a rolled-back or duplicate delivery must not tell the customer twice.
      afterCommit(applied) {
        for (const { event, result } of applied) {
          if (result.outcome !== 'sent') continue;
          const { order_id, kind, recipient, message } = result.notice;
          event.logger.info({ order_id, kind, recipient, message }, 'notification sent');
        }
      },
    }),
  );
  const app = await buildServiceApp({ ...host, logger });
  // The query API, behind the bearer-token guard: operators only, in both modes (SPEC §4.10).
  await app.register(async (guarded) => {
    await guarded.register(authenticate, {
      mode: config.auth.mode,
      verify: createTokenVerifier(config.auth),
      defaultAccess: 'operator',
    });
    await guarded.register(notificationsRoutes, { db });
  });
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
