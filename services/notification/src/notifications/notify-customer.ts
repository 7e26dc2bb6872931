import type { Transaction } from 'kysely';
import type { SagaEvent } from '@platform/service-host';
import type { NotificationDatabase } from '../database.js';
import { composeNotice } from './compose-notice.js';
import type { NotifiableEvent, Notice } from './notification.js';
import { commitWith, lockKeys } from '@platform/postgres';
import { findNotified, insertNotifications, notificationKey } from './notifications.repository.js';

/** Whether the customer was told now, or had already been told this kind of news about the order. */
export type NotifyOutcome = 'sent' | 'already_sent';

/** How notifying the customer of an event ended, and what they were told. */
export interface Notified {
  outcome: NotifyOutcome;
  notice: Notice;
}

/** The kinds of news each order of a round was already told (`notificationKey`s). */
export type AlreadyTold = Set<string>;

/**
 * Locks the round's orders (a concurrent copy of an event waits) and reads which kinds of news each was
 * already told, in one round trip.
 */
export async function loadNotified(
  trx: Transaction<NotificationDatabase>,
  events: readonly SagaEvent<NotifiableEvent>[],
): Promise<AlreadyTold> {
  const orderIds = events.map((event) => event.envelope.correlation_id);
  const [, told] = await Promise.all([lockKeys(trx, orderIds), findNotified(trx, orderIds)]);
  return told;
}

/**
 * Records the customers' notifications of a round of events, once per (order, kind) whatever the event's
 * id: a second payment.refunded for an order is the same news, so the customer hears it once. One
 * statement for the round, sent with the COMMIT.
 */
export function notifyCustomers(
  trx: Transaction<NotificationDatabase>,
  events: readonly SagaEvent<NotifiableEvent>[],
  told: AlreadyTold,
): Notified[] {
  const notices = events.map((event) => composeNotice(event.envelope));
  const results = notices.map((notice): Notified => {
    const key = notificationKey(notice.order_id, notice.kind);
    if (told.has(key)) return { outcome: 'already_sent', notice };
    told.add(key);
    return { outcome: 'sent', notice };
  });
  commitWith(
    trx,
    insertNotifications(
      trx,
      notices.flatMap(({ details, ...notice }, i) =>
        results[i]?.outcome === 'sent'
          ? [{ ...notice, event_id: events[i]?.envelope.id ?? '', details: JSON.stringify(details) }]
          : [],
      ),
    ),
  );
  return results;
}
