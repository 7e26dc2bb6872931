import { randomUUID } from 'node:crypto';
import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUBSCRIPTIONS } from '@platform/contracts';
import {
  connectBroker,
  replayDeadLetters,
  startConsumer,
  type Broker,
  type EventConsumer,
} from '@platform/messaging';
import { captureTraceContext, createLogger } from '@platform/observability';
import { createTestExchange, TEST_RETRY_DELAYS_MS, waitFor, type TestExchange } from '@platform/testing';

// The trace context across a delayed retry and a dead-letter replay, on the real broker: every attempt
// of a message stays a child of its one publish, in the trace the message was written in.
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();
const tracer = trace.getTracer('message-tracing.test');

let exchange: TestExchange;
let broker: Broker;
let consumer: EventConsumer;
/** Attempts seen by the handler, by event id. */
const attempts = new Map<string, number[]>();
/** Events whose first attempt fails (retried once, then handled). */
const failOnce = new Set<string>();
/** Events whose handling waits for this promise (holding the consumer's only batch slot). */
const holds = new Map<string, Promise<void>>();
/** Events a batch has taken (before any hold). */
const taken = new Set<string>();

beforeAll(async () => {
  exchange = await createTestExchange('message_tracing');
  const logger = createLogger({ service: 'inventory', level: 'silent', traceIds: true });
  broker = connectBroker({
    url: 'amqp://guest:guest@127.0.0.1:5672',
    connectionName: 'message-tracing.test',
    exchange: exchange.name,
    subscriptions: SUBSCRIPTIONS,
    logger,
  });
  consumer = startConsumer({
    broker,
    exchange: exchange.name,
    service: 'inventory',
    bindingKeys: ['order.created'],
    // Only `{ "id": … }` bodies are events here: anything else is dead-lettered at once.
    validate: (value) =>
      typeof (value as { id?: unknown }).id === 'string' ? [] : ['/id: must be a string'],
    handle: async (events) => {
      for (const event of events) taken.add(event.envelope.id);
      await Promise.all(events.map((event) => holds.get(event.envelope.id) ?? Promise.resolve()));
      return events.map((event) => {
        const seen = attempts.get(event.envelope.id) ?? [];
        attempts.set(event.envelope.id, [...seen, event.attempt]);
        if (failOnce.has(event.envelope.id) && event.attempt === 1) {
          return { ok: false as const, error: new Error('not yet') };
        }
        return { ok: true as const };
      });
    },
    prefetch: 10,
    maxBatch: 10,
    maxConcurrentBatches: 1,
    retryDelaysMs: TEST_RETRY_DELAYS_MS,
    maxAttempts: 3,
    logger,
  });
  await consumer.ready;
});

afterAll(async () => {
  await consumer.close();
  await broker.close();
  await exchange.remove();
  await provider.shutdown();
});

/** Publishes `body` as an outbox row written inside span `name` would be; returns that span's trace. */
async function publishInTrace(body: object, messageId: string): Promise<string> {
  const writer = tracer.startSpan('write outbox row');
  const traceContext = captureTraceContext(trace.setSpan(context.active(), writer));
  writer.end();
  const [result] = await broker.publishAll([
    {
      messageId,
      routingKey: 'order.created',
      correlationId: 'order-1',
      body: JSON.stringify(body),
      traceContext,
    },
  ]);
  expect(result?.status).toBe('fulfilled');
  return writer.spanContext().traceId;
}

const spansOf = (messageId: string, kind: SpanKind): ReadableSpan[] =>
  exporter
    .getFinishedSpans()
    .filter((span) => span.kind === kind && span.attributes['messaging.message.id'] === messageId);

describe('trace context through retries and dead letters', () => {
  it('keeps a retried event in its trace: each attempt a child of the one publish', async () => {
    const id = randomUUID();
    failOnce.add(id);
    const traceId = await publishInTrace({ id }, id);
    await waitFor('two attempts', () => spansOf(id, SpanKind.CONSUMER).length === 2);

    const [publish] = spansOf(id, SpanKind.PRODUCER);
    expect(publish?.spanContext().traceId).toBe(traceId);
    const consumed = spansOf(id, SpanKind.CONSUMER);
    expect(consumed.map((span) => span.attributes['order_platform.attempt'])).toEqual([1, 2]);
    for (const span of consumed) {
      expect(span.spanContext().traceId).toBe(traceId);
      expect(span.parentSpanContext?.spanId).toBe(publish?.spanContext().spanId);
    }
    expect(consumed.map((span) => span.status.code)).toEqual([SpanStatusCode.ERROR, SpanStatusCode.UNSET]);
    expect(attempts.get(id)).toEqual([1, 2]);
  });

  it('keeps a replayed dead letter in its trace', async () => {
    const id = randomUUID();
    const traceId = await publishInTrace({ not: 'an event' }, id);
    await waitFor('dead-lettered', () => spansOf(id, SpanKind.CONSUMER).length === 1);
    expect(await replayDeadLetters(broker.connection, exchange.name, 'inventory', [id])).toHaveLength(1);
    await waitFor('replayed', () => spansOf(id, SpanKind.CONSUMER).length === 2);

    const [publish] = spansOf(id, SpanKind.PRODUCER);
    for (const span of spansOf(id, SpanKind.CONSUMER)) {
      expect(span.spanContext().traceId).toBe(traceId);
      expect(span.parentSpanContext?.spanId).toBe(publish?.spanContext().spanId);
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
    }
  });

  it('processes a batch of several traces in a span of its own, linked to each event', async () => {
    // A first event holds the consumer's only batch slot: the next three wait and leave in one batch.
    const blocker = randomUUID();
    let release: () => void = () => undefined;
    holds.set(blocker, new Promise((resolve) => (release = resolve)));
    await publishInTrace({ id: blocker }, blocker);
    await waitFor('the blocker taken', () => taken.has(blocker));
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const traces = await Promise.all(ids.map((id) => publishInTrace({ id }, id)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    release();
    await waitFor('all handled', () => ids.every((id) => spansOf(id, SpanKind.CONSUMER).length === 1));

    const consumed = ids.map((id) => spansOf(id, SpanKind.CONSUMER)[0]);
    expect(consumed.map((span) => span?.spanContext().traceId)).toEqual(traces);
    const batch = exporter
      .getFinishedSpans()
      .find((span) => span.links.some((link) => link.context.spanId === consumed[0]?.spanContext().spanId));
    expect(batch?.name).toMatch(/^process batch /);
    // A trace of its own (not any one event's), linked to all three.
    expect(batch?.parentSpanContext).toBeUndefined();
    expect(traces).not.toContain(batch?.spanContext().traceId);
    expect(batch?.links.map((link) => link.context.spanId).sort()).toEqual(
      consumed.map((span) => span?.spanContext().spanId).sort(),
    );
  });
});
