import type { Transaction } from 'kysely';
import type { SagaEvent } from '@platform/service-host';
import type { NotificationDatabase } from '../database.js';
import { composeNotice } from './compose-notice.js';
import type { NotifiableEvent, Notice } from './notification.js';
import { insertNotifications, notificationKey } from './notifications.repository.js';

/** Whether the customer was told now, or had already been told this kind of news about the order. */
export type NotifyOutcome = 'sent' | 'already_sent';

/** How notifying the customer of an event ended, and what they were told. */
export interface Notified {
  outcome: NotifyOutcome;
  notice: Notice;
}

/**
 * Records the customers' notifications of a round of events, once per (order, kind) whatever the event's
 * id: a second payment.refunded for an order is the same news, so the customer hears it once. One
 * statement for the round.
 */
export async function notifyCustomers(
  trx: Transaction<NotificationDatabase>,
  events: readonly SagaEvent<NotifiableEvent>[],
): Promise<Notified[]> {
  const notices = events.map((event) => composeNotice(event.envelope));
  const stored = await insertNotifications(
    trx,
    notices.map(({ details, ...notice }, i) => ({
      ...notice,
      event_id: events[i]?.envelope.id ?? '',
      details: JSON.stringify(details),
    })),
  );
  return notices.map((notice) => ({
    outcome: stored.has(notificationKey(notice.order_id, notice.kind)) ? 'sent' : 'already_sent',
    notice,
  }));
}
