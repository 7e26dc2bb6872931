import type { Transaction } from 'kysely';
import { OrderEvents, PaymentEvents, type EventEnvelope, type OrderSnapshot } from '@platform/contracts';
import type { NotificationDatabase, NotificationDetails, NotificationKind } from '../database.js';
import type { SagaEvent } from '@platform/service-host';
import { insertNotifications, notificationKey } from './notifications.repository.js';

/** What the customer is told about one event. */
export interface Notice {
  order_id: string;
  kind: NotificationKind;
  recipient: string;
  customer_fullname: string | null;
  message: string;
  details: NotificationDetails;
}

/** Whether the customer was told now, or had already been told this kind of news about the order. */
export type NotifyOutcome = 'sent' | 'already_sent';

type Composer = (order: OrderSnapshot, payload: unknown) => Pick<Notice, 'message' | 'details'>;

// The payload is read field by field: a producer that leaves out an amount or a reason gets a vaguer
// sentence, never a wrong one and never a message stuck in retries.
const field = (value: unknown, key: string): unknown =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined;
const amount = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;
const money = (value: number): string => value.toFixed(2);
const suffix = (separator: string, value: string | undefined): string =>
  value === undefined ? '' : `${separator}${value}`;

const COMPOSERS: Readonly<Record<NotificationKind, Composer>> = {
  [OrderEvents.completed]: (order) => {
    const total = amount(order.total_amount);
    const product = text(order.product_name);
    return {
      message:
        `Your order ${order.order_id} is complete` +
        suffix(': ', product) +
        suffix(' for ', total === undefined ? undefined : money(total)),
      details: { product_name: product, total_amount: total },
    };
  },
  [OrderEvents.cancelled]: (order, payload) => {
    const reason = text(field(payload, 'reason'));
    return {
      message: `Your order ${order.order_id} was cancelled${suffix(': ', reason)}`,
      details: { reason },
    };
  },
  [PaymentEvents.processed]: (order, payload) => {
    const charge = field(payload, 'charge');
    const charged = amount(field(charge, 'amount'));
    return {
      message: `We charged ${charged === undefined ? 'your payment' : money(charged)} for order ${order.order_id}`,
      details: { amount: charged, charge_id: text(field(charge, 'charge_id')) },
    };
  },
  [PaymentEvents.failed]: (order, payload) => {
    const reason = text(field(payload, 'reason'));
    return {
      message: `We could not charge your payment for order ${order.order_id}${suffix(': ', reason)}`,
      details: { reason },
    };
  },
  [PaymentEvents.refunded]: (order, payload) => {
    const refund = field(payload, 'refund');
    const refunded = amount(field(refund, 'amount'));
    return {
      message: `We refunded ${refunded === undefined ? 'your payment' : money(refunded)} for order ${order.order_id}`,
      details: { amount: refunded, refund_id: text(field(refund, 'refund_id')) },
    };
  },
};

/** The event types the customer is notified of. */
export const NOTIFICATION_KINDS = Object.keys(COMPOSERS) as readonly NotificationKind[];

function isNotificationKind(type: string): type is NotificationKind {
  return Object.hasOwn(COMPOSERS, type);
}

/** Builds what the customer is told about an event; the same event always gives the same notice. */
export function composeNotice(order: OrderSnapshot, event: EventEnvelope): Notice {
  const kind = event.type;
  if (!isNotificationKind(kind)) throw new Error(`${kind} is not an event the customer is notified of`);
  return {
    order_id: order.order_id,
    kind,
    recipient: order.user_id,
    customer_fullname: order.customer_fullname,
    ...COMPOSERS[kind](order, event.payload),
  };
}

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
  events: readonly SagaEvent[],
): Promise<Notified[]> {
  const notices = events.map((event) => composeNotice(event.order, event.envelope));
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
