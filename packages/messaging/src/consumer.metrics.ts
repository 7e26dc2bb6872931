import { Counter, Histogram } from 'prom-client';
import type { Registry } from '@platform/observability';

/** A consumer's metrics: outcomes per event type, batch durations (s) and sizes (events). */
export type ConsumerMetrics = ReturnType<typeof createConsumerMetrics>;

/** Registers the consumer's metrics in `registry`. */
export function createConsumerMetrics(registry: Registry) {
  return {
    handled: new Counter({
      name: 'events_consumed_total',
      help: 'Events consumed, by type and outcome (handled, retried, deferred, dead_lettered)',
      labelNames: ['type', 'outcome'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'event_batch_duration_seconds',
      help: 'Time to handle one batch of events (one transaction in the services)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'event_batch_size',
      help: 'Events handled together in one batch',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers: [registry],
    }),
  };
}
