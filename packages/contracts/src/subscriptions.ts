import {
  FulfilmentEvents,
  InventoryEvents,
  isEventType,
  OrderEvents,
  PaymentEvents,
  type EventOf,
  type EventType,
} from './events.js';

/** The services that consume events. */
export type ConsumingService = 'order' | 'inventory' | 'payment' | 'fulfilment' | 'notification';

/**
 * Who consumes what (SPEC §2): each service's event types, bound by name on the topic exchange. Every
 * service declares all of these queues when it connects (RabbitMQ drops a message no queue is bound to,
 * so no event may be published before every queue meant to receive it exists, whichever service starts
 * first), and each service must have exactly one handler per type of its own list: it refuses to start
 * otherwise (`@platform/service-host`'s `handleSagaEvents`).
 */
export const SUBSCRIPTIONS = {
  // Only the events that decide an order's fate: each carries the steps before it (`steps`), so a good
  // order costs five publishes and seven deliveries (SPEC §2, issue 21).
  order: [
    InventoryEvents.unavailable,
    PaymentEvents.failed,
    FulfilmentEvents.placed,
    FulfilmentEvents.failed,
  ],
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
} as const satisfies Record<ConsumingService, readonly EventType[]>;

/**
 * Bindings an earlier version made that no service subscribes to any more: a consumer removes them from its
 * queue when it starts, so that an upgraded system does not keep receiving (and dead-lettering) them.
 */
export const RETIRED_SUBSCRIPTIONS: Readonly<Partial<Record<ConsumingService, readonly string[]>>> = {
  // Before issue 21 the order service also consumed these; their steps now come in `steps`.
  order: [InventoryEvents.reserved, PaymentEvents.processed, PaymentEvents.refunded],
};

/** The event types service `S` consumes. */
export type SubscribedType<S extends ConsumingService> = (typeof SUBSCRIPTIONS)[S][number];

/** An event service `S` consumes, discriminated by `type` (a union of `EventOf<…>`). */
export type SubscribedEvent<S extends ConsumingService> = {
  [T in SubscribedType<S>]: EventOf<T>;
}[SubscribedType<S>];

/**
 * Extra routing keys an event is also delivered under, sent as the CC header so one publish reaches them.
 * `created_order` keeps seed 000's consumers working (SPEC §3).
 */
export const CC_ROUTING_KEYS: Readonly<Partial<Record<EventType, readonly string[]>>> = {
  [OrderEvents.created]: ['created_order'],
};

/** The extra routing keys of events published under `routingKey` (see `CC_ROUTING_KEYS`); usually none. */
export function ccRoutingKeysOf(routingKey: string): readonly string[] | undefined {
  return isEventType(routingKey) ? CC_ROUTING_KEYS[routingKey] : undefined;
}
