import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection } from 'rabbitmq-client';
import { rawBody } from './message-headers.js';
import { serviceQueueDeclarations, serviceQueues } from './topology.js';

/** A queue `upgradeQueues` declared anew, and how many messages it carried over. */
export interface UpgradedQueue {
  queue: string;
  messages: number;
}

type Declaration = ReturnType<typeof serviceQueueDeclarations>[number];

const isPreconditionFailed = (error: unknown) => (error as { code?: string }).code === 'PRECONDITION_FAILED';

/**
 * Brings a service's queues declared by an earlier version to this version's arguments (the delivery
 * limits RabbitMQ 4 needs, see topology.ts). RabbitMQ cannot change a queue's arguments: redeclaring it
 * with others fails with PRECONDITION_FAILED, and a service would not start. For each of the service's
 * queues whose arguments differ, its messages are moved to a holding queue (`<queue>.upgrading`), the
 * queue is deleted and declared anew, and the messages are moved back, headers and properties unchanged;
 * each message leaves a queue only after the broker confirmed its copy. Queues already right are left
 * alone.
 *
 * The work queue's bindings (`bindingKeys` on the topic `exchange`, as SUBSCRIPTIONS gives them) are
 * declared again at the end: a work queue declared anew has none.
 *
 * Run it with **every** service stopped, and the console and any `npm run dlq` too: nothing may publish
 * to, consume from or list these queues meanwhile. A queue is deleted only once it counts no ready
 * message, no consumer, twice a second apart (a listing holds letters unacknowledged for a moment, and
 * they are not counted then); a message or a consumer seen makes the upgrade stop with an error rather
 * than lose anything, but between the last count and the deletion there is no lock (quorum queues have no
 * if-empty deletion). A rerun after a failure finishes the job: a holding queue left behind is emptied
 * into the new queue. A crash between a copy's confirmation and the original's acknowledgement leaves the
 * message twice (a replayed event is absorbed by the consumer's inbox). Throws the broker's errors.
 */
export async function upgradeQueues(
  connection: Connection,
  exchange: string,
  service: string,
  options: { retryDelaysMs: readonly number[]; bindingKeys: readonly string[] },
): Promise<UpgradedQueue[]> {
  const upgraded: UpgradedQueue[] = [];
  for (const declaration of serviceQueueDeclarations(exchange, service, options.retryDelaysMs)) {
    const holding = `${declaration.queue}.upgrading`;
    if (!(await declares(connection, declaration))) {
      const channel = await connection.acquire();
      try {
        // No dead-letter exchange, no TTL: a delayed retry waits here as long as the upgrade takes.
        await channel.queueDeclare({
          queue: holding,
          durable: true,
          arguments: { 'x-queue-type': 'quorum' },
        });
      } finally {
        await channel.close();
      }
      await moveAll(connection, declaration.queue, holding);
      await deleteEmpty(connection, declaration.queue);
      await withChannel(connection, (channel) => channel.queueDeclare(declaration));
    }
    if (await exists(connection, holding)) {
      const messages = await moveAll(connection, holding, declaration.queue);
      await deleteEmpty(connection, holding);
      upgraded.push({ queue: declaration.queue, messages });
    }
  }
  const { queue } = serviceQueues(exchange, service);
  await withChannel(connection, async (channel) => {
    await channel.exchangeDeclare({ exchange, type: 'topic', durable: true });
    for (const routingKey of options.bindingKeys) await channel.queueBind({ queue, exchange, routingKey });
  });
  return upgraded;
}

/**
 * Deletes a queue that holds no message. Quorum queues refuse the if-empty flag (NOT_IMPLEMENTED), so the
 * count is read first, twice: a message published between the last count and the deletion would be lost,
 * hence everything stopped.
 */
async function deleteEmpty(connection: Connection, queue: string): Promise<void> {
  await withChannel(connection, async (channel) => {
    for (let look = 0; look < 2; look += 1) {
      if (look > 0) await sleep(1_000);
      const { messageCount, consumerCount } = await channel.queueDeclare({ queue, passive: true });
      if (messageCount > 0 || consumerCount > 0) {
        throw new Error(
          `${queue} has ${messageCount} message(s) and ${consumerCount} consumer(s) during the upgrade: ` +
            'stop every service, the console and npm run dlq first',
        );
      }
    }
    await channel.queueDelete({ queue });
  });
}

/** Declares the queue as given: false when it exists with other arguments. */
async function declares(connection: Connection, declaration: Declaration): Promise<boolean> {
  try {
    await withChannel(connection, (channel) => channel.queueDeclare(declaration));
    return true;
  } catch (error) {
    if (isPreconditionFailed(error)) return false;
    throw error;
  }
}

async function exists(connection: Connection, queue: string): Promise<boolean> {
  try {
    await withChannel(connection, (channel) => channel.queueDeclare({ queue, passive: true }));
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === 'NOT_FOUND') return false;
    throw error;
  }
}

async function withChannel<T>(
  connection: Connection,
  use: (channel: Awaited<ReturnType<Connection['acquire']>>) => Promise<T>,
): Promise<T> {
  const channel = await connection.acquire();
  try {
    return await use(channel);
  } finally {
    // A channel the broker closed (a failed declaration) is already closed: nothing more to do.
    await channel.close().catch(() => undefined);
  }
}

/**
 * Moves every message of `from` to `to` through the default exchange, publisher-confirmed before each
 * acknowledgement. A quorum queue may answer empty for a moment while messages given back to it pass
 * through its log, so an empty answer is trusted only when the queue also counts none.
 */
async function moveAll(connection: Connection, from: string, to: string): Promise<number> {
  return withChannel(connection, async (channel) => {
    // The broker confirms a message it could not route: the target must exist (NOT_FOUND otherwise).
    await channel.queueDeclare({ queue: to, passive: true });
    await channel.confirmSelect();
    let moved = 0;
    for (let emptyLooks = 0; emptyLooks < 20;) {
      const message = await channel.basicGet(from);
      if (!message) {
        const { messageCount } = await channel.queueDeclare({ queue: from, passive: true });
        if (messageCount === 0) break;
        emptyLooks += 1;
        await sleep(100);
        continue;
      }
      // Every AMQP basic property, as it was (an expiration, a timestamp, the headers of a dead letter).
      const { contentType, contentEncoding, headers, durable, priority, correlationId, replyTo } = message;
      const { expiration, messageId, timestamp, type, userId, appId } = message;
      await channel.basicPublish(
        {
          exchange: '',
          routingKey: to,
          ...{ contentType, contentEncoding, headers, durable, priority, correlationId, replyTo },
          ...{ expiration, messageId, timestamp, type, userId, appId },
        },
        rawBody(message.body),
      );
      channel.basicAck({ deliveryTag: message.deliveryTag });
      moved += 1;
    }
    return moved;
  });
}
