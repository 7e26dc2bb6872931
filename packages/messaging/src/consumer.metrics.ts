import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from '@platform/observability';
import type { Broker } from './broker.js';

/** A consumer's metrics: outcomes per event type, batch durations (s) and sizes (events). */
export type ConsumerMetrics = ReturnType<typeof createConsumerMetrics>;

/** How many messages a queue holds, as the broker says; undefined when it cannot be asked. */
export type QueueDepth = (queue: string) => Promise<number | undefined>;

/** Asks the broker with a passive declare (which creates nothing); undefined while it is unreachable. */
export function queueDepthOf(broker: Pick<Broker, 'connection' | 'isConnected'>): QueueDepth {
  return async (queue) => {
    if (!broker.isConnected()) return undefined;
    const declared = await broker.connection.queueDeclare({ queue, passive: true }).catch(() => undefined);
    return declared?.messageCount;
  };
}

/**
 * Registers the consumer's metrics in `registry`. With `depth`, two gauges are read from the broker at
 * each scrape (a passive declare each): the messages waiting in the service's queue (`queue`) and in its
 * dead-letter queue (`deadLetterQueue`): a backlog, and dead letters appearing, are what on-call watches.
 */
export function createConsumerMetrics(
  registry: Registry,
  queues?: { queue: string; deadLetterQueue: string; depth: QueueDepth },
) {
  if (queues) {
    const gauge = (name: string, help: string, queue: string) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        // Every instance of a service reads the same queue: its instances' values are not to be added up.
        aggregator: 'max',
        async collect() {
          const count = await queues.depth(queue);
          if (count !== undefined) this.set(count);
        },
      });
    gauge(
      'consumer_queue_messages',
      "Messages waiting in the service's queue (not yet delivered)",
      queues.queue,
    );
    gauge('dead_letter_messages', "Messages in the service's dead-letter queue", queues.deadLetterQueue);
  }
  const lag = new Histogram({
    name: 'event_consume_lag_seconds',
    help: "Time from an event's sent_at to its handling by this service, by type",
    labelNames: ['type'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const handled = new Counter({
    name: 'events_consumed_total',
    help: 'Events consumed, by type and outcome (handled, retried, deferred, dead_lettered)',
    labelNames: ['type', 'outcome'],
    registers: [registry],
  });
  return {
    handled,
    /** Counts a handled event, and how long after it was sent (ISO `sentAt`) it was handled. */
    recordHandled(type: string, sentAt: string): void {
      handled.inc({ type, outcome: 'handled' });
      const sent = Date.parse(sentAt);
      if (Number.isFinite(sent)) lag.observe({ type }, Math.max(0, Date.now() - sent) / 1000);
    },
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
