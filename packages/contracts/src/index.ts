export { createEnvelope, EnvelopeSchema, type EventEnvelope } from './envelope.js';
export {
  OrderItemSnapshotSchema,
  OrderSnapshotSchema,
  type OrderItemSnapshot,
  type OrderSnapshot,
} from './order-snapshot.js';
export {
  createEvent,
  EVENT_PAYLOADS,
  eventProblems,
  FulfilmentEvents,
  InventoryEvents,
  isEventType,
  OrderEvents,
  PaymentEvents,
  SagaStepSchema,
  ShortageSchema,
  type AnyEvent,
  type SagaStep,
  type SagaStepRecord,
  type EventOf,
  type EventType,
  type PayloadOf,
} from './events.js';
export {
  CC_ROUTING_KEYS,
  ccRoutingKeysOf,
  RETIRED_SUBSCRIPTIONS,
  SUBSCRIPTIONS,
  type ConsumingService,
  type SubscribedEvent,
  type SubscribedType,
} from './subscriptions.js';
export { Identifier, IDENTIFIER_PATTERN } from './identifiers.js';
export { asyncApiDocument, type AsyncApiOptions } from './asyncapi.js';
export {
  CANCELLATION_REASONS,
  lifecycleDiagram,
  ORDER_STATES,
  ORDER_TRANSITIONS,
  STEP_BOUNDS,
  type OrderTransition,
} from './order-lifecycle.js';
export { changesOf, evolveAll, initialStateOf, type Decided, type Decider } from './decider.js';
