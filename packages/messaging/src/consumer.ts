import { ConsumerStatus, type AsyncMessage } from 'rabbitmq-client';
import { Counter, Histogram } from 'prom-client';
import type { EventEnvelope } from '@platform/contracts';
import type { Logger, Registry } from '@platform/observability';
import type { Broker } from './broker.js';
import {
  ATTEMPT_HEADER,
  forwardableHeaders,
  LAST_ERROR_HEADER,
  ORIGINAL_ROUTING_KEY_HEADER,
  rawBody,
} from './message-headers.js';
import {
  deadLetterQueueDeclaration,
  retryQueueDeclaration,
  retryQueueName,
  serviceQueues,
  workQueueDeclaration,
} from './topology.js';

/** What a handler gets beside the event: a logger that stamps every line with the event's ids. */
export interface EventContext {
  logger: Logger;
  /** 1 on the first delivery, growing with each delayed retry. */
  attempt: number;
}

/** Handles one event; throwing means "not now": the event comes back after a delay, up to the limit. */
export type EventHandler = (envelope: EventEnvelope, context: EventContext) => Promise<void>;

/** A service's subscription to the exchange, and how it copes with failures. */
export interface ConsumerOptions {
  broker: Broker;
  exchange: string;
  service: string;
  bindingKeys: readonly string[];
  handle: EventHandler;
  /** Events handled at once; as many are fetched ahead, so a slow handler never hoards the queue. */
  prefetch: number;
  /** Wait before attempt 2, 3, …; the last value repeats. Each distinct value is a delay queue. */
  retryDelaysMs: readonly number[];
  /** Attempts before the event goes to the dead-letter queue. */
  maxAttempts: number;
  /**
   * Failures that say nothing about the event (its database is down or busy): retried after the longest
   * delay without counting as an attempt, so an outage longer than the retry schedule dead-letters nothing.
   */
  isTransient?: (error: unknown) => boolean;
  logger: Logger;
  registry?: Registry;
}

/** A running consumer. */
export interface EventConsumer {
  /** Resolves once the queue is declared and consumption started (the first time). */
  ready: Promise<void>;
  /** Stops fetching, lets the handlers in progress finish (their events are acked), then closes. */
  close(): Promise<void>;
}

/**
 * Consumes the service's durable quorum queue. An event is acked only after its handler resolved (the
 * handler commits its own transaction, inbox row included). A failed event is re-published to a delay
 * queue, which hands it back after the delay, and acked: no hot loop, and the queue keeps flowing behind
 * it. After `maxAttempts` it goes to the dead-letter queue instead. Re-publishing is confirmed before the
 * ack, so a crash in between can only duplicate the event, which the inbox absorbs.
 */
export function startConsumer(options: ConsumerOptions): EventConsumer {
  const { broker, exchange, service, logger } = options;
  const { queue, deadLetterQueue } = serviceQueues(exchange, service);
  // Every delay a failure can be sent to is one of these queues, declared below: a re-publish to a queue
  // that was never declared would be silently swallowed.
  const delays = [...new Set(options.retryDelaysMs)];
  if (delays.length === 0) throw new Error('retryDelaysMs needs at least one delay');
  const metrics = options.registry && consumerMetrics(options.registry);

  const republisher = broker.connection.createPublisher({
    confirm: true,
    maxAttempts: 1,
    queues: [
      deadLetterQueueDeclaration(exchange, service),
      ...delays.map((ms) => retryQueueDeclaration(exchange, service, ms)),
    ],
  });

  const { queue: _queue, ...queueOptions } = workQueueDeclaration(exchange, service);
  const consumer = broker.connection.createConsumer(
    {
      queue,
      queueOptions,
      qos: { prefetchCount: options.prefetch },
      concurrency: options.prefetch,
      exchanges: [{ exchange, type: 'topic', durable: true }],
      queueBindings: options.bindingKeys.map((routingKey) => ({ exchange, queue, routingKey })),
    },
    async (message) => {
      const attempt = attemptOf(message);
      const started = performance.now();
      let envelope: EventEnvelope | undefined;
      let log = logger.child({ event_id: message.messageId, attempt });
      try {
        envelope = parseEnvelope(message.body);
        log = logger.child({
          correlation_id: envelope.correlation_id,
          event_id: envelope.id,
          event_type: envelope.type,
          attempt,
        });
        await options.handle(envelope, { logger: log, attempt });
        metrics?.handled.inc({ type: envelope.type, outcome: 'handled' });
        metrics?.duration.observe({ type: envelope.type }, (performance.now() - started) / 1000);
        return ConsumerStatus.ACK;
      } catch (error) {
        const type = envelope?.type ?? 'unparseable';
        const reason = error instanceof Error ? error.message : String(error);
        const hop = nextHop({ ...options, transient: options.isTransient?.(error) ?? false, attempt });
        const to =
          hop.delayMs === undefined ? deadLetterQueue : retryQueueName(exchange, service, hop.delayMs);
        await forward(message, to, hop.attempt, reason);
        metrics?.handled.inc({ type, outcome: hop.outcome });
        if (hop.outcome === 'dead_lettered') {
          log.error({ err: error }, `event failed ${attempt} times; moved to ${deadLetterQueue}`);
        } else if (hop.outcome === 'deferred') {
          log.warn(
            { err: error },
            `transient failure, not counted as an attempt; again in ${hop.delayMs} ms`,
          );
        } else {
          log.warn({ err: error }, `event failed; attempt ${hop.attempt} in ${hop.delayMs} ms`);
        }
        return ConsumerStatus.ACK;
      }
    },
  );
  // Handler failures are dealt with above; what reaches here is channel trouble the client recovers from.
  consumer.on('error', (error: unknown) => logger.warn({ err: error, queue }, 'consumer error'));
  const ready = new Promise<void>((resolve) => consumer.once('ready', () => resolve()));

  async function forward(message: AsyncMessage, to: string, attempt: number, reason: string): Promise<void> {
    await republisher.send(
      {
        routingKey: to,
        messageId: message.messageId,
        correlationId: message.correlationId,
        durable: true,
        contentType: 'application/json',
        headers: {
          ...forwardableHeaders(message.headers),
          [ATTEMPT_HEADER]: attempt,
          [LAST_ERROR_HEADER]: reason.slice(0, 1_000),
          [ORIGINAL_ROUTING_KEY_HEADER]: originalRoutingKey(message),
        },
      },
      rawBody(message.body),
    );
  }

  return {
    ready,
    async close() {
      await consumer.close();
      await republisher.close();
    },
  };
}

function originalRoutingKey(message: AsyncMessage): string {
  const original: unknown = message.headers?.[ORIGINAL_ROUTING_KEY_HEADER];
  return typeof original === 'string' ? original : message.routingKey;
}

/** Where a failed delivery goes next: a delay queue (with the attempt it will be) or the dead-letter queue. */
export function nextHop(failure: {
  attempt: number;
  transient: boolean;
  maxAttempts: number;
  retryDelaysMs: readonly number[];
}):
  | { outcome: 'deferred' | 'retried'; attempt: number; delayMs: number }
  | { outcome: 'dead_lettered'; attempt: number; delayMs?: undefined } {
  const { attempt, retryDelaysMs } = failure;
  const delayBefore = (next: number) =>
    retryDelaysMs[Math.min(next - 2, retryDelaysMs.length - 1)] ?? Math.max(...retryDelaysMs);
  // The database being down says nothing about the event: wait the longest, without using an attempt.
  if (failure.transient) return { outcome: 'deferred', attempt, delayMs: Math.max(...retryDelaysMs) };
  if (attempt >= failure.maxAttempts) return { outcome: 'dead_lettered', attempt };
  return { outcome: 'retried', attempt: attempt + 1, delayMs: delayBefore(attempt + 1) };
}

function attemptOf(message: AsyncMessage): number {
  const value = Number(message.headers?.[ATTEMPT_HEADER] ?? 1);
  return Number.isInteger(value) && value >= 1 ? value : 1;
}

/** Checks the envelope's shape (SPEC §3); a malformed one throws and ends in the dead-letter queue. */
function parseEnvelope(body: unknown): EventEnvelope {
  const value: unknown = Buffer.isBuffer(body) || typeof body === 'string' ? JSON.parse(String(body)) : body;
  const envelope = value as Partial<EventEnvelope> | null;
  if (
    typeof envelope !== 'object' ||
    envelope === null ||
    typeof envelope.id !== 'string' ||
    envelope.id.length === 0 ||
    typeof envelope.type !== 'string' ||
    typeof envelope.correlation_id !== 'string' ||
    typeof envelope.payload !== 'object' ||
    envelope.payload === null
  ) {
    throw new Error(
      'not an event envelope: needs a string id, type and correlation_id, and a payload object',
    );
  }
  return envelope as EventEnvelope;
}

function consumerMetrics(registry: Registry) {
  return {
    handled: new Counter({
      name: 'events_consumed_total',
      help: 'Events consumed, by type and outcome (handled, retried, deferred, dead_lettered)',
      labelNames: ['type', 'outcome'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'event_handling_duration_seconds',
      help: 'Time to handle an event successfully, by type',
      labelNames: ['type'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}
