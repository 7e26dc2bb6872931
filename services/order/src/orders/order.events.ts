import { createEnvelope, OrderEvents, type EventEnvelope, type OrderEventPayload } from '@platform/contracts';
import { toSnapshot, type Order } from './order.js';

/** Every order event: the order service as producer, the order id as correlation id, its snapshot. */
function orderEvent(type: string, order: Order, reason?: string): EventEnvelope<OrderEventPayload> {
  return createEnvelope({
    type,
    producer: 'order',
    correlationId: order.id,
    payload: reason === undefined ? { order: toSnapshot(order) } : { order: toSnapshot(order), reason },
  });
}

/** The order was accepted and stored; not yet priced. */
export const orderPlaced = (order: Order) => orderEvent(OrderEvents.placed, order);

/** The order was priced: SPEC §3's snapshot, with customer name, item names and prices, and total. */
export const orderCreated = (order: Order) => orderEvent(OrderEvents.created, order);

/** The order was placed at the fulfilment partner: the saga succeeded. */
export const orderCompleted = (order: Order) => orderEvent(OrderEvents.completed, order);

/** The order was cancelled, with its reason. */
export const orderCancelled = (order: Order, reason: string) =>
  orderEvent(OrderEvents.cancelled, order, reason);
