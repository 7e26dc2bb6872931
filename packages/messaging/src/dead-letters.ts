import type { Connection, SyncMessage } from 'rabbitmq-client';
import {
  ATTEMPT_HEADER,
  LAST_ERROR_HEADER,
  ORIGINAL_ROUTING_KEY_HEADER,
  rawBody,
} from './message-headers.js';
import { deadLetterQueueDeclaration, serviceQueues } from './topology.js';

/** A message in a service's dead-letter queue, as an operator needs to see it. */
export interface DeadLetter {
  messageId: string | undefined;
  correlationId: string | undefined;
  /** The event's routing key when it was first published. */
  routingKey: string;
  attempts: number | undefined;
  lastError: string | undefined;
  body: string;
}

/**
 * Reads every dead letter of a service without removing any: messages are fetched unacknowledged, and
 * closing the channel gives them all back to the queue.
 */
export async function listDeadLetters(
  connection: Connection,
  exchange: string,
  service: string,
): Promise<DeadLetter[]> {
  const { deadLetterQueue } = serviceQueues(exchange, service);
  const channel = await connection.acquire();
  try {
    // Declared (as every service declares it) so that a service that never ran simply has none.
    await channel.queueDeclare(deadLetterQueueDeclaration(exchange, service));
    const letters: DeadLetter[] = [];
    for (let message = await channel.basicGet(deadLetterQueue); message;) {
      letters.push(toDeadLetter(message));
      message = await channel.basicGet(deadLetterQueue);
    }
    return letters;
  } finally {
    await channel.close();
  }
}

/**
 * Sends dead letters back to the service's work queue with a fresh attempt count: all of them, or the one
 * whose message id is `messageId`. Each is removed from the dead-letter queue only after the broker
 * confirmed its copy, so a failure half-way duplicates at worst (the inbox absorbs that), never loses.
 */
export async function replayDeadLetters(
  connection: Connection,
  exchange: string,
  service: string,
  messageId?: string,
): Promise<DeadLetter[]> {
  const { queue, deadLetterQueue } = serviceQueues(exchange, service);
  const channel = await connection.acquire();
  try {
    // Only the letters there when the replay began: a replayed event that fails again at once (an invalid
    // one is dead-lettered on its first delivery) is back before the loop ends, and must not be replayed
    // round and round.
    const { messageCount } = await channel.queueDeclare(deadLetterQueueDeclaration(exchange, service));
    await channel.confirmSelect();
    const replayed: DeadLetter[] = [];
    for (let seen = 0; seen < messageCount; seen += 1) {
      const message = await channel.basicGet(deadLetterQueue);
      if (!message) break;
      if (messageId !== undefined && message.messageId !== messageId) continue;
      const { [ATTEMPT_HEADER]: _attempt, [LAST_ERROR_HEADER]: _error, ...headers } = message.headers ?? {};
      await channel.basicPublish(
        {
          routingKey: queue,
          messageId: message.messageId,
          correlationId: message.correlationId,
          durable: true,
          contentType: 'application/json',
          headers,
        },
        rawBody(message.body),
      );
      channel.basicAck({ deliveryTag: message.deliveryTag });
      replayed.push(toDeadLetter(message));
    }
    return replayed;
  } finally {
    // Letters fetched but not replayed are given back to the dead-letter queue here.
    await channel.close();
  }
}

function toDeadLetter(message: SyncMessage): DeadLetter {
  const headers = message.headers ?? {};
  const attempts = Number(headers[ATTEMPT_HEADER]);
  const original: unknown = headers[ORIGINAL_ROUTING_KEY_HEADER];
  const error: unknown = headers[LAST_ERROR_HEADER];
  return {
    messageId: message.messageId,
    correlationId: message.correlationId,
    routingKey: typeof original === 'string' ? original : message.routingKey,
    attempts: Number.isFinite(attempts) ? attempts : undefined,
    lastError: typeof error === 'string' ? error : undefined,
    body: rawBody(message.body).toString('utf8'),
  };
}
