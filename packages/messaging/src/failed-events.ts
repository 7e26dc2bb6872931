import type { AsyncMessage } from 'rabbitmq-client';
import type { Logger } from '@platform/observability';
import type { Broker } from './broker.js';
import type { ConsumerMetrics } from './consumer.metrics.js';
import { InvalidEventError, nextHop } from './failure-routing.js';
import {
  ATTEMPT_HEADER,
  DEAD_LETTERED_AT_HEADER,
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
} from './topology.js';

/** Where a consumer's failed deliveries go, and how. */
export interface FailedEventForwarder {
  /**
   * Re-publishes a failed delivery to its delay queue or to the dead-letter queue (`nextHop`), with its
   * attempt and the error in its headers, confirmed by the broker. Resolves false when it could not (the
   * broker went away): the caller hands the delivery back to the queue instead.
   */
  forward(
    message: AsyncMessage,
    failure: { type: string; attempt: number; error: unknown; log: Logger },
  ): Promise<boolean>;
  close(): Promise<void>;
}

/** The routing key a message was first published with (a retried one travels under its queue's name). */
export function originalRoutingKey(message: AsyncMessage): string {
  const original: unknown = message.headers?.[ORIGINAL_ROUTING_KEY_HEADER];
  return typeof original === 'string' ? original : message.routingKey;
}

/**
 * A consumer's forwarder of failed deliveries. Every delay a failure can be sent to is one of the queues
 * its publisher declares: a re-publish to a queue that was never declared would be silently swallowed.
 */
export function createFailedEventForwarder(options: {
  broker: Broker;
  exchange: string;
  service: string;
  /** The distinct retry delays, in ms: one delay queue each. */
  delaysMs: readonly number[];
  maxAttempts: number;
  isTransient?: (error: unknown) => boolean;
  metrics?: ConsumerMetrics;
}): FailedEventForwarder {
  const { exchange, service, metrics } = options;
  const { deadLetterQueue } = serviceQueues(exchange, service);
  const republisher = options.broker.connection.createPublisher({
    confirm: true,
    maxAttempts: 1,
    queues: [
      deadLetterQueueDeclaration(exchange, service),
      ...options.delaysMs.map((ms) => retryQueueDeclaration(exchange, service, ms)),
    ],
  });

  return {
    async forward(message, { type, attempt, error, log }) {
      const reason = error instanceof Error ? error.message : String(error);
      const hop = nextHop({
        attempt,
        maxAttempts: options.maxAttempts,
        retryDelaysMs: options.delaysMs,
        permanent: error instanceof InvalidEventError,
        transient: options.isTransient?.(error) ?? false,
      });
      const to = hop.delayMs === undefined ? deadLetterQueue : retryQueueName(exchange, service, hop.delayMs);
      try {
        await republisher.send(
          {
            routingKey: to,
            messageId: message.messageId,
            correlationId: message.correlationId,
            durable: true,
            contentType: 'application/json',
            headers: {
              ...forwardableHeaders(message.headers),
              [ATTEMPT_HEADER]: hop.attempt,
              [LAST_ERROR_HEADER]: reason.slice(0, 1_000),
              [ORIGINAL_ROUTING_KEY_HEADER]: originalRoutingKey(message),
              ...(hop.outcome === 'dead_lettered' && { [DEAD_LETTERED_AT_HEADER]: new Date().toISOString() }),
            },
          },
          rawBody(message.body),
        );
      } catch (forwardError) {
        log.warn({ err: forwardError }, 'could not forward a failed event; handing it back to the queue');
        return false;
      }
      metrics?.handled.inc({ type, outcome: hop.outcome });
      if (error instanceof InvalidEventError) {
        log.error({ problems: error.problems }, `invalid event; moved to ${deadLetterQueue} without retries`);
      } else if (hop.outcome === 'dead_lettered') {
        log.error({ err: error }, `event failed ${attempt} times; moved to ${deadLetterQueue}`);
      } else if (hop.outcome === 'deferred') {
        log.warn({ err: error }, `transient failure, not counted as an attempt; again in ${hop.delayMs} ms`);
      } else {
        log.warn({ err: error }, `event failed; attempt ${hop.attempt} in ${hop.delayMs} ms`);
      }
      return true;
    },
    close: () => republisher.close(),
  };
}
