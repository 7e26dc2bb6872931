import { randomUUID } from 'node:crypto';

/** Every event published on the `orders` exchange is wrapped in this envelope (SPEC §3). */
export interface EventEnvelope<TPayload = unknown> {
  /** Unique event id: consumers de-duplicate on it. */
  id: string;
  /** The event name, also its routing key, e.g. `order.created`. */
  type: string;
  /** The service that produced the event. */
  producer: string;
  sent_at: string;
  /** The order id the event is about. */
  correlation_id: string;
  payload: TPayload;
}

/** Names of the events of the order service. */
export const OrderEvents = {
  /** Accepted and stored, not yet priced: the order service's own enrichment consumes it. */
  placed: 'order.placed',
  created: 'order.created',
  completed: 'order.completed',
  cancelled: 'order.cancelled',
} as const;

/**
 * Extra routing keys an event is also delivered under, sent as the CC header so one publish reaches them.
 * `created_order` keeps seed 000's consumers working (SPEC §3).
 */
export const CC_ROUTING_KEYS: Readonly<Record<string, readonly string[]>> = {
  [OrderEvents.created]: ['created_order'],
};

/** Builds an envelope with a fresh event id. */
export function createEnvelope<TPayload>(args: {
  type: string;
  producer: string;
  correlationId: string;
  payload: TPayload;
}): EventEnvelope<TPayload> {
  return {
    id: randomUUID(),
    type: args.type,
    producer: args.producer,
    sent_at: new Date().toISOString(),
    correlation_id: args.correlationId,
    payload: args.payload,
  };
}

/** An item of an order as events carry it; names and prices are null until the order is priced. */
export interface OrderItemSnapshot {
  product_code: string;
  product_name: string | null;
  quantity: number;
  unit_price: number | null;
}

/** The order as order events carry it in `payload.order` (SPEC §3). */
export interface OrderSnapshot {
  order_id: string;
  user_id: string;
  customer_fullname: string | null;
  product_name: string | null;
  total_amount: number | null;
  created_at: string;
  items: OrderItemSnapshot[];
}

/** Payload of every order event. */
export interface OrderEventPayload {
  order: OrderSnapshot;
  reason?: string;
}
