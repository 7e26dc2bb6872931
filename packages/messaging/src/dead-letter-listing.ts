import { randomUUID } from 'node:crypto';
import type { Connection, SyncMessage } from 'rabbitmq-client';
import { toDeadLetter, type DeadLetter } from './dead-letter.js';
import { rawBody } from './message-headers.js';
import { archiveQueueDeclaration, deadLetterQueueDeclaration } from './topology.js';

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
export async function declareArchive(connection: Connection, exchange: string, service: string) {
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
