import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Channel, Connection, SyncMessage } from 'rabbitmq-client';
import {
  ATTEMPT_HEADER,
  DEAD_LETTERED_AT_HEADER,
  DISCARDED_AT_HEADER,
  LAST_ERROR_HEADER,
  ORIGINAL_ROUTING_KEY_HEADER,
  rawBody,
} from './message-headers.js';
import { archiveQueueDeclaration, deadLetterQueueDeclaration, serviceQueues } from './topology.js';

/** A message in a service's dead-letter queue (or its archive), as an operator needs to see it. */
export interface DeadLetter {
  messageId: string | undefined;
  correlationId: string | undefined;
  /** The event's routing key when it was first published. */
  routingKey: string;
  attempts: number | undefined;
  lastError: string | undefined;
  /** When it was dead-lettered (ISO 8601); absent for letters from before that was recorded. */
  deadLetteredAt: string | undefined;
  /** When an operator discarded it (archived letters only). */
  discardedAt: string | undefined;
  /** Every AMQP header it carries (trace context, attempt, error, …). */
  headers: Record<string, unknown>;
  body: string;
}

/** Which letters an operation takes: all of them, or those whose message id is listed. */
export type LetterSelection = 'all' | readonly string[];

/**
 * Reads every dead letter of a service without removing any: messages are fetched unacknowledged, and
 * closing the channel gives them all back to the queue.
 */
export function listDeadLetters(
  connection: Connection,
  exchange: string,
  service: string,
): Promise<DeadLetter[]> {
  return listQueue(connection, deadLetterQueueDeclaration(exchange, service));
}

/** Reads the archive of a service's discarded dead letters, without removing any. */
export function listArchivedLetters(
  connection: Connection,
  exchange: string,
  service: string,
): Promise<DeadLetter[]> {
  return listQueue(connection, archiveQueueDeclaration(exchange, service));
}

async function listQueue(
  connection: Connection,
  declaration: ReturnType<typeof deadLetterQueueDeclaration>,
): Promise<DeadLetter[]> {
  const channel = await connection.acquire();
  try {
    // Declared (as every service declares it) so that a service that never ran simply has none.
    await channel.queueDeclare(declaration);
    const letters: DeadLetter[] = [];
    for (let message = await channel.basicGet(declaration.queue); message;) {
      letters.push(toDeadLetter(message));
      message = await channel.basicGet(declaration.queue);
    }
    return letters;
  } finally {
    await channel.close();
  }
}

/**
 * Sends dead letters back to the service's work queue with a fresh attempt count: all of them, or those
 * whose message ids are listed. Each is removed from the dead-letter queue only after
 * the broker confirmed its copy, so a failure half-way duplicates at worst (the inbox absorbs that), never
 * loses. The trace context in its headers is kept: its consumption stays in the order's trace.
 */
export async function replayDeadLetters(
  connection: Connection,
  exchange: string,
  service: string,
  selection: LetterSelection = 'all',
): Promise<DeadLetter[]> {
  const { queue } = serviceQueues(exchange, service);
  return moveLetters(connection, exchange, service, selection, (channel, message, stamp) => {
    const {
      [ATTEMPT_HEADER]: _attempt,
      [LAST_ERROR_HEADER]: _error,
      [DEAD_LETTERED_AT_HEADER]: _at,
      ...headers
    } = message.headers ?? {};
    return channel.basicPublish(
      {
        routingKey: queue,
        messageId: message.messageId,
        correlationId: message.correlationId,
        durable: true,
        contentType: 'application/json',
        headers: { ...headers, ...stamp },
      },
      rawBody(message.body),
    );
  });
}

/**
 * Moves dead letters to the service's archive (all of them, or those listed), stamped with when: they
 * leave the dead-letter queue, are never replayed, and stay listable (`listArchivedLetters`). Each is
 * removed only after the broker confirmed its archived copy.
 */
export async function discardDeadLetters(
  connection: Connection,
  exchange: string,
  service: string,
  selection: LetterSelection,
): Promise<DeadLetter[]> {
  const archive = archiveQueueDeclaration(exchange, service);
  const channel = await connection.acquire();
  await channel.queueDeclare(archive).finally(() => channel.close());
  return moveLetters(connection, exchange, service, selection, (publisher, message, stamp) =>
    publisher.basicPublish(
      {
        routingKey: archive.queue,
        messageId: message.messageId,
        correlationId: message.correlationId,
        durable: true,
        contentType: 'application/json',
        headers: { ...message.headers, ...stamp, [DISCARDED_AT_HEADER]: new Date().toISOString() },
      },
      rawBody(message.body),
    ),
  );
}

/** Marks the copies one replay or discard made, so that the same run never takes one of them again. */
const MOVED_BY_HEADER = 'x-moved-by';

/**
 * Takes the selected letters from the dead-letter queue, publishes each with `publish` (confirmed; the copy
 * stamped with this run's id) and then acknowledges it. Letters not selected are held unacknowledged and
 * given back, unchanged, when the channel closes; a copy this run made that comes back meanwhile (a
 * replayed event refused again at once) is held too, so nothing goes round and round. Letters a listing
 * gave back a moment ago may take a moment to be there again (a quorum queue returns them through its
 * log): the queue is looked at again for up to a second while it seems empty (until every selected
 * letter was found, for a selection). A run takes at most the letters there at its start and a thousand
 * more, so a steady stream of new letters cannot keep it going.
 */
async function moveLetters(
  connection: Connection,
  exchange: string,
  service: string,
  selection: LetterSelection,
  publish: (channel: Channel, message: SyncMessage, stamp: Record<string, string>) => Promise<void>,
): Promise<DeadLetter[]> {
  const { deadLetterQueue } = serviceQueues(exchange, service);
  const wanted = selection === 'all' ? undefined : new Set(selection);
  const stamp = { [MOVED_BY_HEADER]: randomUUID() };
  const channel = await connection.acquire();
  try {
    const { messageCount } = await channel.queueDeclare(deadLetterQueueDeclaration(exchange, service));
    await channel.confirmSelect();
    const moved: DeadLetter[] = [];
    const found = new Set<string>();
    const done = () => wanted !== undefined && found.size === wanted.size;
    let emptyLooks = 0;
    for (let taken = 0; taken < messageCount + 1_000 && !done();) {
      const message = await channel.basicGet(deadLetterQueue);
      if (!message) {
        if (emptyLooks >= 10 || (wanted === undefined && moved.length > 0)) break;
        emptyLooks += 1;
        await sleep(100);
        continue;
      }
      taken += 1;
      if (message.headers?.[MOVED_BY_HEADER] === stamp[MOVED_BY_HEADER]) continue;
      const id = message.messageId;
      if (wanted && (id === undefined || !wanted.has(id))) continue;
      await publish(channel, message, stamp);
      channel.basicAck({ deliveryTag: message.deliveryTag });
      moved.push(toDeadLetter(message));
      if (id !== undefined) found.add(id);
    }
    return moved;
  } finally {
    // Letters fetched but not moved are given back to the dead-letter queue here.
    await channel.close();
  }
}

function toDeadLetter(message: SyncMessage): DeadLetter {
  const headers = message.headers ?? {};
  const attempts = Number(headers[ATTEMPT_HEADER]);
  const text = (name: string): string | undefined => {
    const value: unknown = headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  return {
    messageId: message.messageId,
    correlationId: message.correlationId,
    routingKey: text(ORIGINAL_ROUTING_KEY_HEADER) ?? message.routingKey,
    attempts: Number.isFinite(attempts) ? attempts : undefined,
    lastError: text(LAST_ERROR_HEADER),
    deadLetteredAt: text(DEAD_LETTERED_AT_HEADER),
    discardedAt: text(DISCARDED_AT_HEADER),
    headers,
    body: rawBody(message.body).toString('utf8'),
  };
}
