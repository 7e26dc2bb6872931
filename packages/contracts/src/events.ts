import { Type, type Static, type TProperties } from 'typebox';
import { Compile } from 'typebox/compile';
import { createEnvelope, EnvelopeSchema, type EventEnvelope } from './envelope.js';
import { OrderSnapshotSchema } from './order-snapshot.js';

/** Names of the order service's events. */
export const OrderEvents = {
  created: 'order.created',
  completed: 'order.completed',
  cancelled: 'order.cancelled',
} as const;

/** Names of the inventory service's events. */
export const InventoryEvents = {
  reserved: 'inventory.reserved',
  unavailable: 'inventory.unavailable',
} as const;

/** Names of the payment service's events. */
export const PaymentEvents = {
  processed: 'payment.processed',
  failed: 'payment.failed',
  refunded: 'payment.refunded',
} as const;

/** Names of the fulfilment service's events. */
export const FulfilmentEvents = {
  placed: 'fulfilment.placed',
  failed: 'fulfilment.failed',
} as const;

/** A payload about an order: its snapshot in `order`, and what the event adds. */
const AboutOrder = <P extends TProperties>(properties: P, description: string) =>
  Type.Object({ order: OrderSnapshotSchema, ...properties }, { description });

const Reason = Type.String({ minLength: 1, description: 'Why, as a stable code (out_of_stock, …)' });
const Amount = Type.Number({ minimum: 0, description: 'In the currency unit (9.99), not cents' });

/** The steps of the saga another service can report (SPEC §2), by the name the order's history uses. */
const SagaStepName = Type.Union([
  Type.Literal('stock_reserved'),
  Type.Literal('out_of_stock'),
  Type.Literal('paid'),
  Type.Literal('payment_failed'),
  Type.Literal('fulfilment_placed'),
  Type.Literal('placement_failed'),
]);
export type SagaStep = Static<typeof SagaStepName>;

/** One step of the saga as the events after it carry it: what happened, when, and what it reported. */
export const SagaStepSchema = Type.Object({
  step: SagaStepName,
  at: Type.String({ format: 'date-time', description: 'When the service that took the step decided it' }),
  data: Type.Optional(
    Type.Record(Type.String(), Type.Unknown(), {
      description: 'What the step reported: the charge, the placement, the missing stock, a reason',
    }),
  ),
});
export type SagaStepRecord = Static<typeof SagaStepSchema>;

/**
 * The saga's steps up to and including this event's own, oldest first (SPEC §2): each service passes on
 * what it received and adds its step, so the event that ends an order's saga brings the order service its
 * whole history (which reservation, which charge, when) without a message per step. Optional for events of
 * an earlier version, which carried none.
 */
const Steps = Type.Optional(Type.Array(SagaStepSchema, { maxItems: 16 }));

/** A product an order wants more of than is available, in units. */
export const ShortageSchema = Type.Object({
  product_code: Type.String({ minLength: 1 }),
  requested: Type.Integer({ minimum: 1 }),
  available: Type.Integer({ minimum: 0 }),
});

/**
 * Every event type of the system with the schema of its payload (SPEC §2, §3): the contract between
 * producer and consumers. A consumer checks each event against it before any handler sees it, and an
 * event that fails is dead-lettered at once (`eventProblems`). Published as AsyncAPI (`asyncApiDocument`).
 */
export const EVENT_PAYLOADS = {
  [OrderEvents.created]: AboutOrder(
    {},
    'Priced: customer name, item names and prices, total (SPEC §3); also delivered as `created_order`',
  ),
  [OrderEvents.completed]: AboutOrder({}, 'Placed at the fulfilment partner: the saga succeeded'),
  [OrderEvents.cancelled]: AboutOrder({ reason: Reason }, 'Cancelled, with its reason; compensations follow'),
  [InventoryEvents.reserved]: AboutOrder({ steps: Steps }, 'Every item of the order is reserved'),
  [InventoryEvents.unavailable]: AboutOrder(
    { reason: Reason, missing: Type.Array(ShortageSchema, { minItems: 1 }), steps: Steps },
    'Not enough stock for the order; nothing is reserved',
  ),
  [PaymentEvents.processed]: AboutOrder(
    { charge: Type.Object({ charge_id: Type.String({ minLength: 1 }), amount: Amount }), steps: Steps },
    'The order was charged at the payment gateway',
  ),
  [PaymentEvents.failed]: AboutOrder({ reason: Reason, steps: Steps }, 'The charge failed for good'),
  [PaymentEvents.refunded]: AboutOrder(
    { refund: Type.Object({ refund_id: Type.String({ minLength: 1 }), amount: Amount }) },
    'The charge of a cancelled order was refunded',
  ),
  [FulfilmentEvents.placed]: AboutOrder(
    { placement: Type.Object({ placement_id: Type.String({ minLength: 1 }) }), steps: Steps },
    'The fulfilment partner accepted the order',
  ),
  [FulfilmentEvents.failed]: AboutOrder(
    { reason: Reason, steps: Steps },
    'The partner did not take the order in time',
  ),
} as const;

/** The name of an event type (`order.created`, …). */
export type EventType = keyof typeof EVENT_PAYLOADS;

/** The payload of events of type `T`. */
export type PayloadOf<T extends EventType> = Static<(typeof EVENT_PAYLOADS)[T]>;

/** An event of type `T`: its envelope, with the payload its schema gives. */
export type EventOf<T extends EventType> = EventEnvelope<PayloadOf<T>> & { type: T };

/** Any event of the system, discriminated by `type`. */
export type AnyEvent = { [T in EventType]: EventOf<T> }[EventType];

/** Whether `type` names an event of the system. */
export function isEventType(type: string): type is EventType {
  return Object.hasOwn(EVENT_PAYLOADS, type);
}

/** Builds an event about the order in `payload.order` (its id is the correlation id), with a fresh id. */
export function createEvent<T extends EventType>(
  type: T,
  producer: string,
  payload: PayloadOf<T>,
): EventOf<T> {
  return createEnvelope({ type, producer, correlationId: payload.order.order_id, payload });
}

const envelopeCheck = Compile(EnvelopeSchema);
const payloadChecks = new Map(
  Object.entries(EVENT_PAYLOADS).map(([type, schema]) => [type, Compile(schema)] as const),
);

/**
 * Why `value` is not a valid event of the system, one line per problem (`payload/order/items/0/quantity:
 * must be >= 1`); empty when it is one. An unknown type is a problem: no consumer is subscribed to it.
 */
export function eventProblems(value: unknown): string[] {
  if (!envelopeCheck.Check(value)) {
    return envelopeCheck.Errors(value).map((error) => `${error.instancePath || '/'}: ${error.message}`);
  }
  const check = payloadChecks.get(value.type);
  if (!check) return [`/type: ${value.type} is not an event type of the system`];
  if (check.Check(value.payload)) return [];
  return check.Errors(value.payload).map((error) => `/payload${error.instancePath}: ${error.message}`);
}
