import type { Logger } from '@platform/observability';
import { handleSagaEvents, startSagaService, type SagaService } from '@platform/service-host';
import type { NotificationConfig } from './config.js';
import type { NotificationDatabase } from './database.js';
import { notificationsRoutes } from './notifications/notifications.routes.js';
import { NOTIFICATION_KINDS } from './notifications/compose-notice.js';
import { loadNotified, notifyCustomers } from './notifications/notify-customer.js';

/** A wired notification service: its HTTP app (not listening yet) and what runs beside it. */
export type NotificationService = SagaService<NotificationDatabase, 'notification'>;

/** Prepares the database and starts consuming the events the customer hears about. */
export function createNotificationService(
  config: NotificationConfig,
  logger: Logger,
): Promise<NotificationService> {
  return startSagaService<NotificationDatabase, 'notification'>({
    service: 'notification',
    config,
    moduleUrl: import.meta.url,
    logger,
    parts: (host) => ({
      handlers: handleSagaEvents({
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
      routes: async (api) => {
        await api.register(notificationsRoutes, { db: host.db });
      },
    }),
  });
}
