export { appendToOutbox, outboxMigrations } from './outbox.repository.js';
export {
  createOutboxPublisher,
  type OutboxPublisher,
  type OutboxPublisherOptions,
} from './outbox-publisher.js';
export { startOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from './outbox-relay.js';
export { createOutboxMetrics, type OutboxMetrics } from './outbox.metrics.js';
export { bindCorrelationTraces, correlationTrace } from './trace-contexts.js';
