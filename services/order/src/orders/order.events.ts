import { createEnvelope, OrderEvents, type EventEnvelope, type OrderEventPayload } from '@platform/contracts';
import { toSnapshot, type Order } from './order.js';

const PRODUCER = 'order';

/** The order was accepted and stored; not yet priced. */
export function orderPlaced(order: Order): EventEnvelope<OrderEventPayload> {
  return createEnvelope({
    type: OrderEvents.placed,
    producer: PRODUCER,
    correlationId: order.id,
    payload: { order: toSnapshot(order) },
  });
}

/** The order was priced: SPEC §3's snapshot, with customer name, item names and prices, and total. */
export function orderCreated(order: Order): EventEnvelope<OrderEventPayload> {
  return createEnvelope({
    type: OrderEvents.created,
    producer: PRODUCER,
    correlationId: order.id,
    payload: { order: toSnapshot(order) },
  });
}

/** The order was cancelled, with its reason. */
export function orderCancelled(order: Order, reason: string): EventEnvelope<OrderEventPayload> {
  return createEnvelope({
    type: OrderEvents.cancelled,
    producer: PRODUCER,
    correlationId: order.id,
    payload: { order: toSnapshot(order), reason },
  });
}
