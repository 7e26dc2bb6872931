import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Channel, Connection, SyncMessage } from 'rabbitmq-client';
import { toDeadLetter, type DeadLetter, type LetterSelection } from './dead-letter.js';
import { declareArchive } from './dead-letter-listing.js';
import {
  ATTEMPT_HEADER,
  DEAD_LETTERED_AT_HEADER,
  DISCARDED_AT_HEADER,
  LAST_ERROR_HEADER,
  rawBody,
} from './message-headers.js';
import { deadLetterQueueDeclaration, serviceQueues } from './topology.js';

/**
 * Sends dead letters back to the service's work queue with a fresh attempt count: all of them, or those
 * whose message ids are listed. Each is removed from the dead-letter queue only after
 * the broker confirmed its copy, so a failure half-way duplicates at worst (the inbox absorbs that), never
 * loses. The trace context in its headers is kept: its consumption stays in its saga instance's trace.
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
