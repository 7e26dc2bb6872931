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

/** The most letters one listing returns (`limit`'s bound and default): what a page can show. */
export const LETTER_PAGE_MAX = 200;

/**
 * Reads up to `limit` dead letters of a service (at most LETTER_PAGE_MAX), from the head of its
 * dead-letter queue, without losing any and without counting as a delivery (see `peekLetters`): a
 * listing moves the letters it shows to the back of the queue, so the next listing shows the next ones.
 */
export function listDeadLetters(
  connection: Connection,
  exchange: string,
  service: string,
  limit = LETTER_PAGE_MAX,
): Promise<DeadLetter[]> {
  return peekLetters(connection, deadLetterQueueDeclaration(exchange, service), limit);
}

/** Reads up to `limit` letters of the archive of a service's discarded dead letters, as `listDeadLetters`. */
export async function listArchivedLetters(
  connection: Connection,
  exchange: string,
  service: string,
  limit = LETTER_PAGE_MAX,
): Promise<DeadLetter[]> {
  return peekLetters(connection, await declareArchive(connection, exchange, service), limit);
}

/** How many letters a service's dead-letter queue holds (ready ones), without touching any. */
export async function countDeadLetters(
  connection: Connection,
  exchange: string,
  service: string,
): Promise<number> {
  const channel = await connection.acquire();
  try {
    return (await channel.queueDeclare(deadLetterQueueDeclaration(exchange, service))).messageCount;
  } finally {
    await channel.close();
  }
}

/** Marks the copies one listing made, so that it stops should it meet one of them. */
const PEEKED_BY_HEADER = 'x-peeked-by';

/**
 * Takes up to `limit` letters from the head of a letter queue and puts a copy of each at its back
 * (published, confirmed, then the original acknowledged). Giving a fetched message back instead (a
 * requeue, a closed channel) counts as a delivery in RabbitMQ's quorum queues before 4.3, and past the
 * queue's delivery limit a letter would be dropped (these queues have no dead-letter exchange): a copy
 * starts with none. A crash between a copy's confirmation and the original's acknowledgement leaves the
 * letter twice (a replay of both is absorbed by the consumer's inbox), never none. At most the letters
 * there at the start are taken, so a listing never meets its own copies unless letters left meanwhile.
 */
async function peekLetters(
  connection: Connection,
  declaration: { queue: string; durable: boolean; arguments: Record<string, unknown> },
  limit: number,
): Promise<DeadLetter[]> {
  const channel = await connection.acquire();
  try {
    // Declared (as every service declares it) so that a service that never ran simply has none.
    const { messageCount } = await channel.queueDeclare(declaration);
    await channel.confirmSelect();
    const stamp = randomUUID();
    const taken: SyncMessage[] = [];
    const wanted = Math.min(Math.max(0, limit), LETTER_PAGE_MAX, messageCount);
    while (taken.length < wanted) {
      const message = await channel.basicGet(declaration.queue);
      // Went round (letters left meanwhile): this one is given back as it is when the channel closes.
      if (!message || message.headers?.[PEEKED_BY_HEADER] === stamp) break;
      taken.push(message);
    }
    // The copies published together and confirmed together (one at a time: ~40 ms each here, a quorum
    // queue's confirm waiting for its log), then the originals acknowledged at once.
    await Promise.all(
      taken.map((message) =>
        channel.basicPublish(
          {
            routingKey: declaration.queue,
            messageId: message.messageId,
            correlationId: message.correlationId,
            durable: true,
            contentType: message.contentType ?? 'application/json',
            headers: { ...message.headers, [PEEKED_BY_HEADER]: stamp },
          },
          rawBody(message.body),
        ),
      ),
    );
    const last = taken.at(-1);
    if (last) channel.basicAck({ deliveryTag: last.deliveryTag, multiple: true });
    const letters = taken.map(toDeadLetter);
    return letters;
  } finally {
    await channel.close();
  }
}

const isPreconditionFailed = (error: unknown) => (error as { code?: string }).code === 'PRECONDITION_FAILED';

/**
 * Declares a service's archive with its retention (`archiveQueueDeclaration`) and answers that
 * declaration; an archive made by a version before the retention (issue 22) keeps its old arguments, and
 * is used as it is until `npm run dlq -- upgrade-queues` (RabbitMQ cannot change a queue's arguments).
 */
async function declareArchive(connection: Connection, exchange: string, service: string) {
  const archive = archiveQueueDeclaration(exchange, service);
  const channel = await connection.acquire();
  try {
    await channel.queueDeclare(archive);
    return archive;
  } catch (error) {
    if (!isPreconditionFailed(error)) throw error;
    return { ...archive, passive: true };
  } finally {
    await channel.close().catch(() => undefined);
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
  const archive = await declareArchive(connection, exchange, service);
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
 * stamped with this run's id) and then acknowledges it. Letters not selected go to the back of the queue,
 * stamped too (as a listing moves them, without counting a delivery); a run stops at the first letter it
 * stamped, so nothing goes round and round. Letters a listing
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
      // Went round: a letter this run put back (or a replayed copy refused again at once). Given back as
      // it is when the channel closes.
      if (message.headers?.[MOVED_BY_HEADER] === stamp[MOVED_BY_HEADER]) break;
      const id = message.messageId;
      if (wanted && (id === undefined || !wanted.has(id))) {
        // Not selected: a copy goes to the back of the queue, as a listing does (giving the letter back
        // would count as a delivery, see peekLetters).
        await channel.basicPublish(
          {
            routingKey: deadLetterQueue,
            messageId: message.messageId,
            correlationId: message.correlationId,
            durable: true,
            contentType: message.contentType ?? 'application/json',
            headers: { ...message.headers, ...stamp },
          },
          rawBody(message.body),
        );
        channel.basicAck({ deliveryTag: message.deliveryTag });
        continue;
      }
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
