import {
  createEvent,
  type EventOf,
  type EventType,
  type OrderSnapshot,
  type PayloadOf,
  type SagaStepRecord,
} from '@platform/contracts';

/** The time of a step `seconds` after the order was placed (ISO 8601), as the steps' producers stamp them. */
const after = (order: OrderSnapshot, seconds: number): string =>
  new Date(Date.parse(order.created_at) + seconds * 1000).toISOString();

/** The steps of a good order, one per service, as the events after each carry them (SPEC §2). */
const reservedStep = (order: OrderSnapshot): SagaStepRecord => ({
  step: 'stock_reserved',
  at: after(order, 1),
});
const paidStep = (order: OrderSnapshot): SagaStepRecord => ({
  step: 'paid',
  at: after(order, 2),
  data: { charge_id: `ch_${order.order_id}`, amount: order.total_amount ?? 0 },
});

/** What each event type carries besides the order, as its producer would send it by default. */
const DEFAULT_DETAILS: { [T in EventType]: (order: OrderSnapshot) => Omit<PayloadOf<T>, 'order'> } = {
  'order.created': () => ({}),
  'order.completed': () => ({}),
  'order.cancelled': () => ({ reason: 'customer_request' }),
  'inventory.reserved': (order) => ({ steps: [reservedStep(order)] }),
  'inventory.unavailable': (order) => {
    const missing = order.items.map((item) => ({
      product_code: item.product_code,
      requested: item.quantity,
      available: 0,
    }));
    return {
      reason: 'out_of_stock',
      missing,
      steps: [{ step: 'out_of_stock', at: after(order, 1), data: { missing } }],
    };
  },
  'payment.processed': (order) => ({
    charge: { charge_id: `ch_${order.order_id}`, amount: order.total_amount ?? 0 },
    steps: [reservedStep(order), paidStep(order)],
  }),
  'payment.failed': (order) => ({
    reason: 'payment_failed',
    steps: [
      reservedStep(order),
      { step: 'payment_failed', at: after(order, 2), data: { reason: 'payment_failed' } },
    ],
  }),
  'payment.refunded': (order) => ({
    refund: { refund_id: `re_${order.order_id}`, amount: order.total_amount ?? 0 },
  }),
  'fulfilment.placed': (order) => ({
    placement: { placement_id: `pl_${order.order_id}` },
    steps: [
      reservedStep(order),
      paidStep(order),
      { step: 'fulfilment_placed', at: after(order, 3), data: { placement_id: `pl_${order.order_id}` } },
    ],
  }),
  'fulfilment.failed': (order) => ({
    reason: 'placement_failed',
    steps: [
      reservedStep(order),
      paidStep(order),
      { step: 'placement_failed', at: after(order, 3), data: { reason: 'placement_failed' } },
    ],
  }),
};

/**
 * A valid event of type `type` about `order`, as its producer would publish it: the payload's other fields
 * default to plausible values (a reason, a charge of the order's total, the saga's steps so far a second
 * apart from the order's creation, …) that `details` overrides. The
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
