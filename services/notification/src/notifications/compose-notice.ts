import { OrderEvents, PaymentEvents, type EventOf } from '@platform/contracts';
import type { NotifiableEvent, Notice, NotificationKind } from './notification.js';

type Composer<K extends NotificationKind> = (event: EventOf<K>) => Pick<Notice, 'message' | 'details'>;

// Amounts are in the currency unit and shown with two decimals; a priced order has a total and a name, an
// order the customer hears about before pricing (none does today) gets a vaguer sentence, never a wrong one.
const money = (value: number): string => value.toFixed(2);
const suffix = (separator: string, value: string | null | undefined): string =>
  value === undefined || value === null || value === '' ? '' : `${separator}${value}`;

/** The sentence for each kind of news, in one place. */
const COMPOSERS: { [K in NotificationKind]: Composer<K> } = {
  [OrderEvents.completed]: ({ payload: { order } }) => ({
    message:
      `Your order ${order.order_id} is complete` +
      suffix(': ', order.product_name) +
      suffix(' for ', order.total_amount === null ? undefined : money(order.total_amount)),
    details: {
      ...(order.product_name === null ? {} : { product_name: order.product_name }),
      ...(order.total_amount === null ? {} : { total_amount: order.total_amount }),
    },
  }),
  [OrderEvents.cancelled]: ({ payload: { order, reason } }) => ({
    message: `Your order ${order.order_id} was cancelled: ${reason}`,
    details: { reason },
  }),
  [PaymentEvents.processed]: ({ payload: { order, charge } }) => ({
    message: `We charged ${money(charge.amount)} for order ${order.order_id}`,
    details: { amount: charge.amount, charge_id: charge.charge_id },
  }),
  [PaymentEvents.failed]: ({ payload: { order, reason } }) => ({
    message: `We could not charge your payment for order ${order.order_id}: ${reason}`,
    details: { reason },
  }),
  [PaymentEvents.refunded]: ({ payload: { order, refund } }) => ({
    message: `We refunded ${money(refund.amount)} for order ${order.order_id}`,
    details: { amount: refund.amount, refund_id: refund.refund_id },
  }),
};

/** The kinds of news the customer hears: the notification service's handlers, one per subscribed type. */
export const NOTIFICATION_KINDS = Object.keys(COMPOSERS) as NotificationKind[];

/** What the customer is told about an event; the same event always gives the same notice. */
export function composeNotice(event: NotifiableEvent): Notice {
  const { order } = event.payload;
  // TypeScript cannot correlate a composer with the event's type (microsoft/TypeScript#30581).
  const compose = COMPOSERS[event.type] as Composer<NotificationKind>;
  return {
    order_id: order.order_id,
    kind: event.type,
    recipient: order.user_id,
    customer_fullname: order.customer_fullname,
    ...compose(event),
  };
}
