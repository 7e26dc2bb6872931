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

/** Events of the inventory service. */
export const InventoryEvents = {
  reserved: 'inventory.reserved',
  unavailable: 'inventory.unavailable',
} as const;

/** Events of the payment service. */
export const PaymentEvents = {
  processed: 'payment.processed',
  failed: 'payment.failed',
  refunded: 'payment.refunded',
} as const;

/** Events of the fulfilment service. */
export const FulfilmentEvents = {
  placed: 'fulfilment.placed',
  failed: 'fulfilment.failed',
} as const;

/**
 * Payload of every saga event: the order snapshot it is about (passed along, so each service has what it
 * needs without asking another), a reason when something failed, and what the step did.
 */
export interface SagaEventPayload extends OrderEventPayload {
  /** inventory.unavailable: what was missing. */
  missing?: { product_code: string; requested: number; available: number }[];
  /** payment.processed / payment.refunded: the gateway's reference and the amount. */
  charge?: { charge_id: string; amount: number };
  refund?: { refund_id: string; amount: number };
  /** fulfilment.placed: the partner's reference. */
  placement?: { placement_id: string };
}

/** The services that consume events. */
export type ConsumingService = 'order' | 'inventory' | 'payment' | 'fulfilment' | 'notification';

/**
 * Who consumes what (SPEC §2), as binding keys on the topic exchange. Every service declares all of these
 * queues when it connects: RabbitMQ drops a message no queue is bound to, so no event may be published
 * before every queue meant to receive it exists, whichever service starts first.
 */
export const SUBSCRIPTIONS: Readonly<Record<ConsumingService, readonly string[]>> = {
  order: ['inventory.*', 'payment.*', 'fulfilment.*'],
  inventory: [OrderEvents.created, OrderEvents.completed, OrderEvents.cancelled],
  payment: [InventoryEvents.reserved, OrderEvents.cancelled],
  fulfilment: [PaymentEvents.processed, OrderEvents.cancelled],
  notification: [
    OrderEvents.completed,
    OrderEvents.cancelled,
    PaymentEvents.processed,
    PaymentEvents.failed,
    PaymentEvents.refunded,
  ],
};

/**
 * Reads an envelope's `payload.order`, the part every saga handler relies on; throws (the message is then
 * retried and dead-lettered) when it is missing or malformed.
 */
export function readOrderSnapshot(envelope: EventEnvelope): OrderSnapshot {
  const order = (envelope.payload as { order?: Partial<OrderSnapshot> } | null)?.order;
  const valid =
    typeof order === 'object' &&
    typeof order.order_id === 'string' &&
    typeof order.user_id === 'string' &&
    Array.isArray(order.items) &&
    order.items.every(
      (item) => typeof item.product_code === 'string' && Number.isInteger(item.quantity) && item.quantity > 0,
    );
  if (!valid) throw new Error(`${envelope.type} ${envelope.id} carries no valid payload.order`);
  return order as OrderSnapshot;
}

/** Builds a saga event about an order: the order id as correlation id, its snapshot passed along. */
export function createSagaEvent(
  type: string,
  producer: string,
  order: OrderSnapshot,
  details: Omit<SagaEventPayload, 'order'> = {},
): EventEnvelope<SagaEventPayload> {
  return createEnvelope({ type, producer, correlationId: order.order_id, payload: { order, ...details } });
}

export { Identifier, IDENTIFIER_PATTERN } from './identifiers.js';
