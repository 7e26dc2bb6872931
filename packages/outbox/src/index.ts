export { appendToOutbox, outboxMigrations } from './outbox.repository.js';
export { startOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from './outbox-relay.js';
export { createOutboxMetrics, type OutboxMetrics } from './outbox.metrics.js';
