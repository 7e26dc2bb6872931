import { trace, type Context, type Span } from '@opentelemetry/api';
import type { AsyncMessage, Channel } from 'rabbitmq-client';
import type { EventEnvelope } from '@platform/contracts';
import { createGroupCommit } from '@platform/group-commit';
import { failSpan, inBatchSpan, withTraceIds, type Logger } from '@platform/observability';
import { createConsumerMetrics, queueDepthOf } from './consumer.metrics.js';
import { DeliveryAcks } from './delivery-acks.js';
import { createFailedEventForwarder, originalRoutingKey } from './failed-events.js';
import { attemptOf, readEvent } from './failure-routing.js';
import { messagingTracer, startProcessSpan } from './message-tracing.js';
import { serviceQueues, workQueueDeclaration } from './topology.js';
import type {
  BatchHandler,
  ConsumedEvent,
  ConsumerOptions,
  EventConsumer,
  EventResult,
} from './consumer-options.js';

export type { BatchHandler, ConsumedEvent, ConsumerOptions, EventConsumer, EventResult };

/** A delivery, with the channel it came on (an ack must go back on that channel). */
interface Delivery {
  message: AsyncMessage;
  channel: Channel;
  acks: DeliveryAcks;
  /** Handed back to the broker (`basic.nack`) rather than to be acknowledged. */
  requeued?: boolean;
}

/** Backoff between attempts to (re)open the consumer's channel, in ms. */
const SETUP_RETRY_MS = { low: 250, high: 10_000 } as const;

/**
 * Consumes the service's durable quorum queue in batches: the deliveries that are ready are handed to
 * `handle` together (one transaction for all of them, in the services), and each is acknowledged only
 * once its result is known, with one `basic.ack` (multiple) for every run of finished deliveries (one
 * frame and one settlement in the queue's log for a batch, not one per message). A failed event is
 * re-published to a delay queue, which hands it back after the delay, and acknowledged: no hot loop, and
 * the queue keeps flowing behind it. After `maxAttempts` it goes to the dead-letter queue instead.
 * Re-publishing is confirmed before the ack, so a crash in between can only duplicate the event, which the
 * inbox absorbs. A lost channel is opened again with backoff; what it had delivered and not acknowledged
 * comes back from the broker (handled twice at worst, which the inbox absorbs).
 */
export function startConsumer<TEvent extends EventEnvelope>(options: ConsumerOptions<TEvent>): EventConsumer {
  const { broker, exchange, service, logger } = options;
  const { queue, deadLetterQueue } = serviceQueues(exchange, service);
  // Every delay a failure can be sent to is one of these queues, declared below: a re-publish to a queue
  // that was never declared would be silently swallowed.
  const delays = [...new Set(options.retryDelaysMs)];
  if (delays.length === 0) throw new Error('retryDelaysMs needs at least one delay');
  const metrics =
    options.registry &&
    createConsumerMetrics(options.registry, { queue, deadLetterQueue, depth: queueDepthOf(broker) });

  const failures = createFailedEventForwarder({
    broker,
    exchange,
    service,
    delaysMs: delays,
    maxAttempts: options.maxAttempts,
    isTransient: options.isTransient,
    metrics,
  });

  const batches = createGroupCommit<Delivery, undefined>(
    async (deliveries) => {
      await handleDeliveries(deliveries);
      return deliveries.map(() => undefined);
    },
    {
      maxBatch: options.maxBatch,
      maxConcurrentBatches: options.maxConcurrentBatches,
    },
  );

  let closing = false;
  let channel: Channel | undefined;
  let consumerTag: string | undefined;
  let setupRunning: Promise<void> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let failedSetups = 0;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  async function handleDeliveries(deliveries: readonly Delivery[]): Promise<void> {
    const started = performance.now();
    const settling: Promise<void>[] = [];
    const parsed: { delivery: Delivery; event: ConsumedEvent<TEvent>; span: Span }[] = [];
    for (const delivery of deliveries) {
      const { message } = delivery;
      const attempt = attemptOf(message);
      const routingKey = originalRoutingKey(message);
      const traced = startProcessSpan(message, routingKey, queue, attempt);
      try {
        // `validate` is the contract for TEvent: what passes it is one.
        const envelope = readEvent(message.body, options.validate) as TEvent;
        parsed.push({ delivery, event: consumedEvent(envelope, attempt, traced.context), span: traced.span });
      } catch (error) {
        const eventLogger = withTraceIds(
          logger.child({ event_id: message.messageId, routing_key: routingKey, attempt }),
          traced.span.spanContext(),
        );
        failSpan(traced.span, error);
        traced.span.end();
        settling.push(fail(delivery, 'invalid', attempt, error, eventLogger));
      }
    }
    let results: EventResult[] = [];
    if (parsed.length > 0) {
      const events = parsed.map(({ event }) => event);
      results = await inBatchSpan(
        messagingTracer,
        `process batch ${queue}`,
        events.map((event) => event.traceContext),
        () => options.handle(events),
        { 'messaging.system': 'rabbitmq', 'messaging.destination.name': queue },
      ).catch((error: unknown) => parsed.map((): EventResult => ({ ok: false, error })));
    }
    parsed.forEach(({ delivery, event, span }, i) => {
      const result: EventResult = results[i] ?? { ok: false, error: new Error('the handler gave no result') };
      if (result.ok) metrics?.recordHandled(event.envelope.type, event.envelope.sent_at);
      else {
        failSpan(span, result.error);
        settling.push(fail(delivery, event.envelope.type, event.attempt, result.error, event.logger));
      }
      span.end();
    });
    await Promise.all(settling);
    for (const delivery of deliveries) acknowledge(delivery);
    metrics?.batchSize.observe(deliveries.length);
    metrics?.duration.observe((performance.now() - started) / 1000);
  }

  /**
   * The event as handlers get it. Its logger is made on first use: pino serialises a child's bindings when
   * it is created, a cost per event that was a few percent of a service's CPU while most events log nothing.
   */
  function consumedEvent(envelope: TEvent, attempt: number, traceContext: Context): ConsumedEvent<TEvent> {
    let eventLogger: Logger | undefined;
    return {
      envelope,
      attempt,
      traceContext,
      get logger() {
        eventLogger ??= withTraceIds(
          logger.child({
            correlation_id: envelope.correlation_id,
            event_id: envelope.id,
            event_type: envelope.type,
            attempt,
          }),
          trace.getSpanContext(traceContext),
        );
        return eventLogger;
      },
    };
  }

  /**
   * Sends a failed delivery on to its delay queue or to the dead-letter queue. If even that fails (the
   * broker went away), the delivery is handed back to the queue, to be delivered again.
   */
  async function fail(
    delivery: Delivery,
    type: string,
    attempt: number,
    error: unknown,
    log: Logger,
  ): Promise<void> {
    const forwarded = await failures.forward(delivery.message, { type, attempt, error, log });
    if (forwarded || delivery.channel !== channel || !delivery.channel.active) return;
    delivery.channel.basicNack({ deliveryTag: delivery.message.deliveryTag, requeue: true });
    delivery.requeued = true;
  }

  /** Acknowledges every finished delivery up to the first unfinished one, on the channel they came on. */
  function acknowledge(delivery: Delivery): void {
    const upTo = delivery.acks.finished(delivery.message.deliveryTag, delivery.requeued === true);
    // A delivery of a channel that closed meanwhile is delivered again by the broker: nothing to ack.
    if (upTo === undefined || delivery.channel !== channel || !delivery.channel.active) return;
    delivery.channel.basicAck({ deliveryTag: upTo, multiple: true });
  }

  /** Opens a channel, declares the queue and its bindings, and starts consuming. */
  async function setUp(): Promise<void> {
    const opened = await broker.connection.acquire({ emitErrorsFromChannel: true });
    opened.on('error', (error: unknown) => logger.warn({ err: error, queue }, 'consumer channel error'));
    opened.once('close', () => {
      if (channel === opened) {
        channel = undefined;
        consumerTag = undefined;
      }
      scheduleSetUp();
    });
    try {
      const { queue: _queue, ...queueOptions } = workQueueDeclaration(exchange, service);
      await opened.queueDeclare({ queue, ...queueOptions });
      await opened.exchangeDeclare({ exchange, type: 'topic', durable: true });
      for (const routingKey of options.bindingKeys) await opened.queueBind({ exchange, queue, routingKey });
      for (const routingKey of options.retiredBindingKeys ?? []) {
        await opened.queueUnbind({ exchange, queue, routingKey });
      }
      await opened.basicQos({ prefetchCount: options.prefetch });
      const acks = new DeliveryAcks();
      channel = opened;
      const consumed = await opened.basicConsume({ queue }, (message) => {
        acks.delivered(message.deliveryTag);
        // Not taken while closing: the broker delivers it again once the channel is closed.
        if (closing) return;
        batches.submit({ message, channel: opened, acks }).catch((error: unknown) => {
          logger.error({ err: error, queue }, 'a batch of events failed unexpectedly');
        });
      });
      consumerTag = consumed.consumerTag;
      // The broker cancels the consumer when the queue is deleted: start over, declaring it again.
      opened.once('basic.cancel', () => void opened.close());
      failedSetups = 0;
      markReady();
    } catch (error) {
      await opened.close().catch(() => undefined);
      throw error;
    }
  }

  function scheduleSetUp(): void {
    if (closing || retryTimer || setupRunning || channel) return;
    const ceiling = Math.min(SETUP_RETRY_MS.high, SETUP_RETRY_MS.low * 2 ** failedSetups);
    failedSetups += 1;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      runSetUp();
    }, Math.random() * ceiling);
  }

  function runSetUp(): void {
    setupRunning = setUp()
      .catch((error: unknown) => {
        logger.warn({ err: error, queue }, 'could not start consuming; trying again');
      })
      .finally(() => {
        setupRunning = undefined;
        scheduleSetUp();
      });
  }
  runSetUp();

  return {
    ready,
    async close() {
      closing = true;
      clearTimeout(retryTimer);
      await setupRunning;
      const open = channel;
      if (open?.active && consumerTag) await open.basicCancel({ consumerTag }).catch(() => undefined);
      await batches.idle();
      channel = undefined;
      if (open?.active) await open.close().catch(() => undefined);
      await failures.close();
    },
  };
}
