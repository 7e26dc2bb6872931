import {
  createEvent,
  type EventOf,
  type EventType,
  type OrderSnapshot,
  type PayloadOf,
} from '@platform/contracts';

/** What each event type carries besides the order, as its producer would send it by default. */
const DEFAULT_DETAILS: { [T in EventType]: (order: OrderSnapshot) => Omit<PayloadOf<T>, 'order'> } = {
  'order.placed': () => ({}),
  'order.created': () => ({}),
  'order.completed': () => ({}),
  'order.cancelled': () => ({ reason: 'customer_request' }),
  'inventory.reserved': () => ({}),
  'inventory.unavailable': (order) => ({
    reason: 'out_of_stock',
    missing: order.items.map((item) => ({
      product_code: item.product_code,
      requested: item.quantity,
      available: 0,
    })),
  }),
  'payment.processed': (order) => ({
    charge: { charge_id: `ch_${order.order_id}`, amount: order.total_amount ?? 0 },
  }),
  'payment.failed': () => ({ reason: 'payment_failed' }),
  'payment.refunded': (order) => ({
    refund: { refund_id: `re_${order.order_id}`, amount: order.total_amount ?? 0 },
  }),
  'fulfilment.placed': (order) => ({ placement: { placement_id: `pl_${order.order_id}` } }),
  'fulfilment.failed': () => ({ reason: 'placement_failed' }),
};

/**
 * A valid event of type `type` about `order`, as its producer would publish it: the payload's other fields
 * default to plausible values (a reason, a charge of the order's total, …) that `details` overrides. The
 * producer defaults to the service the type is named after.
 */
export function sagaEvent<T extends EventType>(
  type: T,
  order: OrderSnapshot,
  details: Partial<Omit<PayloadOf<T>, 'order'>> = {},
  producer: string = type.split('.')[0] ?? 'test',
): EventOf<T> {
  const defaults = DEFAULT_DETAILS[type] as (order: OrderSnapshot) => Omit<PayloadOf<T>, 'order'>;
  return createEvent(type, producer, { ...defaults(order), ...details, order } as PayloadOf<T>);
}
