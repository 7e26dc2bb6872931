import { Connection } from 'rabbitmq-client';
import { failSpan, type Logger, type TraceCarrier } from '@platform/observability';
import { brokerAddresses } from './broker-addresses.js';
import { startPublishSpan } from './message-tracing.js';
import { topologyDeclarations, type Subscriptions } from './topology.js';

/** Where and as whom to connect, and the topic exchange to declare and publish to. */
export interface BrokerOptions {
  /** One AMQP URL, or a cluster's node URLs separated by commas (see broker-addresses.ts). */
  url: string;
  connectionName: string;
  exchange: string;
  /** Every consuming service's queue and bindings, declared before the first publish (see topology.ts). */
  subscriptions: Subscriptions;
  logger: Logger;
}

/** A message for the topic exchange: persistent, JSON, identified for de-duplication. */
export interface OutgoingMessage {
  messageId: string;
  routingKey: string;
  correlationId: string;
  /** Further routing keys it is delivered under (RabbitMQ's sender-selected distribution). */
  cc?: readonly string[];
  /** The JSON text of the message. */
  body: string;
  /**
   * The trace the message belongs to (the context its outbox row was written in): publishing it is a span
   * of that trace, and the message carries that span's context to its consumers.
   */
  traceContext?: TraceCarrier | null;
}

/** A RabbitMQ connection that reconnects by itself, with a confirming publisher. */
export interface Broker {
  readonly connection: Connection;
  isConnected(): boolean;
  /**
   * Publishes messages (written to the socket together) and settles with each one's confirmation, in
   * sequence: fulfilled once the broker confirmed it, rejected if it was nacked or the connection failed.
   */
  publishAll(messages: readonly OutgoingMessage[]): Promise<PromiseSettledResult<void>[]>;
  close(): Promise<void>;
}

/** How long a publish waits for the broker's confirmation, in ms, before it counts as failed (issue 22). */
export const PUBLISH_CONFIRM_TIMEOUT_MS = 10_000;

/** The broker did not confirm a publish within PUBLISH_CONFIRM_TIMEOUT_MS (it hangs, or its link does). */
export class PublishConfirmTimeoutError extends Error {
  readonly code = 'CONFIRM_TIMEOUT';
  constructor(timeoutMs: number) {
    super(`RabbitMQ did not confirm the publish within ${timeoutMs} ms`);
    this.name = 'PublishConfirmTimeoutError';
  }
}

/** Opens a connection that keeps retrying with exponential backoff; never throws for an absent broker. */
export function connectBroker(options: BrokerOptions): Broker {
  const { logger } = options;
  const connection = new Connection({
    ...brokerAddresses(options.url),
    connectionName: options.connectionName,
    // The longest wait between reconnection attempts bounds how late a service notices the broker's
    // return: with 10 s, one reconnected 8 s after RabbitMQ was back (chaos run, issue 10). An attempt
    // every 2 s during an outage costs nothing.
    retryLow: 250,
    retryHigh: 2_000,
    heartbeat: 10,
    connectionTimeout: 5_000,
    // How long a publish waits for a (re)connection before it fails and the relay backs off.
    acquireTimeout: 5_000,
    // With Nagle's algorithm on (the client's default), a publish written while the broker had not yet
    // acknowledged the previous packet waited for its delayed ACK: 40 ms on Linux, measured on every hop
    // whose event came from a worker (issue 9).
    noDelay: true,
  });
  connection.on('error', (error) => logger.warn({ err: error }, 'rabbitmq connection error'));
  connection.on('connection', () => logger.info('rabbitmq connected'));

  const createPublisher = () =>
    connection.createPublisher({
      confirm: true,
      // One attempt: the outbox relay decides what to retry, so a message is never re-sent behind its back.
      maxAttempts: 1,
      exchanges: [{ exchange: options.exchange, type: 'topic', durable: true }],
      // Re-declared on every reconnection too: a broker that lost its state gets its queues back before any
      // event is published into a void.
      ...topologyDeclarations(options.exchange, options.subscriptions),
    });
  let publisher = createPublisher();
  let renewedAt = Number.NEGATIVE_INFINITY;

  /**
   * A quorum queue refuses (nacks) a publish it cannot take; with no length limit on any queue here that
   * is not the queue being full. Seen on a RabbitMQ 3.10 cluster (`npm run chaos -- --cluster`): after a
   * node was killed, every publish routed to one queue whose leader had moved was nacked, on the channel
   * opened just after the kill, until the node came back 16 s later. A new channel asks for the queue's
   * leader again, so the publisher is replaced (at most once a second); the refused messages stay in the
   * outbox and the relay sends them again.
   */
  function renewPublisherAfterNack(results: PromiseSettledResult<void>[]): void {
    const nacked = results.some(
      (result) => result.status === 'rejected' && (result.reason as { code?: unknown }).code === 'NACK',
    );
    if (!nacked || performance.now() - renewedAt < 1_000) return;
    renewedAt = performance.now();
    const stale = publisher;
    publisher = createPublisher();
    logger.warn('a publish was refused (nack): publishing on a new channel from now on');
    void stale.close().catch(() => undefined);
  }

  const send = (message: OutgoingMessage): Promise<void> => {
    const traced = startPublishSpan(message, options.exchange);
    const cc = message.cc?.length ? { CC: [...message.cc] } : undefined;
    const sent = publisher.send(
      {
        exchange: options.exchange,
        routingKey: message.routingKey,
        messageId: message.messageId,
        correlationId: message.correlationId,
        durable: true,
        contentType: 'application/json',
        headers: traced ? { ...cc, ...traced.headers } : cc,
      },
      Buffer.from(message.body),
    );
    if (!traced) return sent;
    // The span lasts until the broker confirmed (or refused) the message.
    return sent.then(
      () => traced.span.end(),
      (error: unknown) => {
        failSpan(traced.span, error);
        traced.span.end();
        throw error;
      },
    );
  };

  return {
    connection,
    isConnected: () => connection.ready,
    publishAll(messages) {
      // rabbitmq-client writes each message to the socket on its own: twenty messages were twenty
      // syscalls, each waking the broker (issue 9). Corked until the next tick, they leave in one write.
      // `_socket` is the client's own (not public API); without it the messages are simply sent one by one.
      const socket = (
        connection as unknown as { _socket?: { cork(): void; uncork(): void; writable?: boolean } }
      )._socket;
      const corked = messages.length > 1 && socket?.writable === true;
      if (corked) socket.cork();
      // A broker that hangs (frozen, or gone without a reset) confirms nothing until the heartbeat gives
      // up on its socket: the batch's confirmations are waited for PUBLISH_CONFIRM_TIMEOUT_MS at most,
      // with one timer for the batch. A message confirmed after that is published again later by the
      // relay (a duplicate the consumers' inboxes absorb), never lost: its outbox row stays.
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () => reject(new PublishConfirmTimeoutError(PUBLISH_CONFIRM_TIMEOUT_MS)),
          PUBLISH_CONFIRM_TIMEOUT_MS,
        );
      });
      // The timer's own rejection is observed through the races below; this keeps it from being unhandled
      // when every message settled first.
      expired.catch(() => undefined);
      const sent = Promise.allSettled(messages.map((message) => Promise.race([send(message), expired])));
      if (corked) process.nextTick(() => socket.uncork());
      return sent.then((results) => {
        clearTimeout(timer);
        renewPublisherAfterNack(results);
        return results;
      });
    },
    async close() {
      await publisher.close();
      await connection.close();
    },
  };
}
