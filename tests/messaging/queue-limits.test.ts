import { randomBytes } from 'node:crypto';
import { Connection } from 'rabbitmq-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ARCHIVE_RETENTION_MS,
  brokerAddresses,
  countDeadLetters,
  CRASH_DELIVERY_LIMIT,
  deleteTopology,
  LETTER_DELIVERY_LIMIT,
  LETTER_PAGE_MAX,
  listArchivedLetters,
  listDeadLetters,
  serviceQueueDeclarations,
  serviceQueues,
  upgradeQueues,
} from '@platform/messaging';
import { TEST_RABBITMQ_URL } from '@platform/testing';

// RabbitMQ 4's quorum queues (a default delivery limit of 20, returns counted as deliveries): every queue
// states its limit, dead letters survive being looked at, and queues an earlier version declared without
// limits are brought to these arguments with their messages. On the real broker (3.10 on this project's
// machines: the listing test is the one that would catch 4.x dropping letters).
const exchange = `test.limits.${randomBytes(5).toString('hex')}`;
const SERVICE = 'inventory';
const DELAYS = [60_000];
const BINDINGS = ['order.placed', 'order.cancelled'];
const OPTIONS = { retryDelaysMs: DELAYS, bindingKeys: BINDINGS };
let connection: Connection;

beforeAll(async () => {
  connection = new Connection({ ...brokerAddresses(TEST_RABBITMQ_URL), retryLow: 100 });
  await connection.onConnect(5_000, true);
  await connection.exchangeDeclare({ exchange, type: 'topic', durable: true });
});
afterAll(async () => {
  for (const { queue } of serviceQueueDeclarations(exchange, SERVICE, DELAYS)) {
    await connection.queueDelete({ queue: `${queue}.upgrading` }).catch(() => undefined);
  }
  await deleteTopology(connection, exchange, { [SERVICE]: [] }, DELAYS);
  await connection.exchangeDelete({ exchange });
  await connection.close();
});

/** The broker's answer to declaring `queue` as a quorum queue with `args`: 'ok' or its error. */
async function redeclare(queue: string, args: Record<string, unknown>): Promise<string> {
  const channel = await connection.acquire();
  try {
    await channel.queueDeclare({ queue, durable: true, arguments: { 'x-queue-type': 'quorum', ...args } });
    return 'ok';
  } catch (error) {
    return (error as Error).message;
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/** The message ids in a service's dead-letter queue, once there is one (dead-lettering is asynchronous). */
async function waitForLetters(deadLetterQueue: string): Promise<(string | undefined)[]> {
  for (let i = 0; i < 50; i += 1) {
    const letters = await listDeadLetters(connection, exchange, SERVICE);
    if (letters.length > 0) return letters.map((letter) => letter.messageId);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing reached ${deadLetterQueue}`);
}

async function send(queue: string, messageId: string): Promise<void> {
  const publisher = connection.createPublisher({ confirm: true });
  await publisher.send(
    { routingKey: queue, messageId, durable: true, headers: { 'x-last-error': 'boom', 'x-attempt': 3 } },
    { id: messageId },
  );
  await publisher.close();
}

describe('quorum queue delivery limits', () => {
  it('are stated on every queue of a service, whatever the broker version', async () => {
    await upgradeQueues(connection, exchange, SERVICE, OPTIONS);
    const declarations = serviceQueueDeclarations(exchange, SERVICE, DELAYS);
    expect(declarations).toHaveLength(4);
    // RabbitMQ compares a redeclaration's arguments with the queue's: the same ones without the limit are
    // refused, naming it, which shows the queue on the broker has one.
    for (const { queue, arguments: args } of declarations) {
      const { 'x-delivery-limit': limit, ...others } = args;
      expect(limit, queue).toBeGreaterThan(0);
      expect(await redeclare(queue, others), queue).toContain("inequivalent arg 'x-delivery-limit'");
      expect(await redeclare(queue, args), queue).toBe('ok');
    }
    expect(declarations[1]?.arguments['x-delivery-limit']).toBe(LETTER_DELIVERY_LIMIT);
  });

  it("dead-letter a message that keeps killing its consumer after the work queue's limit, and keep it", async () => {
    // The queue type the services use on one node (issue 21 measured classic v2 costlier: quorum stays):
    // a consumer that dies before it can ack hands the message back each time; past the limit the broker
    // moves it to the dead-letter queue (at least once), and the queue flows again.
    await upgradeQueues(connection, exchange, SERVICE, OPTIONS);
    const { queue, deadLetterQueue } = serviceQueues(exchange, SERVICE);
    await send(queue, 'poison');
    let deliveries = 0;
    for (let attempt = 0; attempt < CRASH_DELIVERY_LIMIT + 5; attempt += 1) {
      const channel = await connection.acquire();
      const message = await channel.basicGet({ queue, noAck: false });
      await channel.close(); // a crash: the unacknowledged message goes back
      if (!message) break;
      deliveries += 1;
    }
    expect(deliveries).toBe(CRASH_DELIVERY_LIMIT + 1);
    const letters = await waitForLetters(deadLetterQueue);
    expect(letters).toEqual(['poison']);
    await connection.queuePurge({ queue: deadLetterQueue });
  });

  it('let a dead letter be listed more often than 4.x allows by default (20) and stay', async () => {
    const { deadLetterQueue } = serviceQueues(exchange, SERVICE);
    await send(deadLetterQueue, 'looked-at');
    for (let look = 1; look <= 25; look += 1) {
      const letters = await listDeadLetters(connection, exchange, SERVICE);
      expect(
        letters.map((letter) => letter.messageId),
        `look ${look}`,
      ).toEqual(['looked-at']);
    }
    // Never counted as a delivery (issue 22): each look put a fresh copy at the back of the queue.
    const channel = await connection.acquire();
    const raw = await channel.basicGet({ queue: deadLetterQueue, noAck: false });
    await channel.close();
    expect(raw?.messageId).toBe('looked-at');
    expect(raw?.headers?.['x-delivery-count'] ?? 0).toBe(0);
    await connection.queuePurge({ queue: deadLetterQueue });
  });

  it('list at most a page of letters, the first ones, and the next listing the next ones (issue 22)', async () => {
    const { deadLetterQueue } = serviceQueues(exchange, SERVICE);
    const publisher = connection.createPublisher({ confirm: true });
    for (let i = 0; i < LETTER_PAGE_MAX + 50; i += 1) {
      await publisher.send({ routingKey: deadLetterQueue, messageId: `letter-${i}`, durable: true }, { i });
    }
    await publisher.close();
    expect(await countDeadLetters(connection, exchange, SERVICE)).toBe(LETTER_PAGE_MAX + 50);
    const ids = (letters: { messageId?: string }[]) => letters.map((letter) => letter.messageId);
    const first = await listDeadLetters(connection, exchange, SERVICE);
    expect(ids(first)).toEqual(Array.from({ length: LETTER_PAGE_MAX }, (_, i) => `letter-${i}`));
    const next = await listDeadLetters(connection, exchange, SERVICE, 60);
    expect(ids(next)).toEqual([
      ...Array.from({ length: 50 }, (_, i) => `letter-${LETTER_PAGE_MAX + i}`),
      ...Array.from({ length: 10 }, (_, i) => `letter-${i}`),
    ]);
    // Nothing lost or doubled by looking.
    expect(await countDeadLetters(connection, exchange, SERVICE)).toBe(LETTER_PAGE_MAX + 50);
    await connection.queuePurge({ queue: deadLetterQueue });
  });

  it('keep discarded letters in the archive for 30 days, not for ever (issue 22)', async () => {
    const archive = serviceQueueDeclarations(exchange, SERVICE, DELAYS)[2] as
      { queue: string; arguments: Record<string, unknown> } | undefined;
    expect(archive?.queue).toBe(serviceQueues(exchange, SERVICE).archiveQueue);
    expect(archive?.arguments['x-message-ttl']).toBe(ARCHIVE_RETENTION_MS);
    expect(ARCHIVE_RETENTION_MS).toBe(30 * 24 * 3_600_000);
    await listArchivedLetters(connection, exchange, SERVICE);
    const { 'x-message-ttl': _ttl, ...withoutRetention } = archive?.arguments ?? {};
    expect(await redeclare(archive?.queue ?? '', withoutRetention)).toContain(
      "inequivalent arg 'x-message-ttl'",
    );
  });
});

describe('npm run dlq -- upgrade-queues (upgradeQueues)', () => {
  it('declares anew the queues an earlier version declared otherwise, keeping their messages and bindings', async () => {
    const { queue, deadLetterQueue, archiveQueue } = serviceQueues(exchange, SERVICE);
    const retryQueue = `${queue}.retry.60000ms`;
    for (const name of [queue, deadLetterQueue, archiveQueue, retryQueue]) {
      await connection.queueDelete({ queue: name });
    }
    // As the previous version declared them (and a work queue as some older one might have: no limit, no
    // dead-letter route), the work queue bound to one event only.
    expect(await redeclare(queue, {})).toBe('ok');
    await connection.queueBind({ queue, exchange, routingKey: 'order.placed' });
    expect(await redeclare(deadLetterQueue, {})).toBe('ok');
    expect(await redeclare(archiveQueue, {})).toBe('ok');
    expect(
      await redeclare(retryQueue, {
        'x-message-ttl': 60_000,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': queue,
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      }),
    ).toBe('ok');
    await send(deadLetterQueue, 'dead-1');
    await send(deadLetterQueue, 'dead-2');
    await send(archiveQueue, 'archived-1');
    await send(retryQueue, 'retrying-1');
    await send(queue, 'waiting-1');

    const upgraded = await upgradeQueues(connection, exchange, SERVICE, OPTIONS);
    expect(upgraded).toEqual([
      { queue, messages: 1 },
      { queue: deadLetterQueue, messages: 2 },
      { queue: archiveQueue, messages: 1 },
      { queue: retryQueue, messages: 1 },
    ]);
    for (const { queue: name, arguments: args } of serviceQueueDeclarations(exchange, SERVICE, DELAYS)) {
      expect(await redeclare(name, args), name).toBe('ok');
    }
    const letters = await listDeadLetters(connection, exchange, SERVICE);
    expect(letters.map((letter) => letter.messageId).sort()).toEqual(['dead-1', 'dead-2']);
    expect(letters[0]).toMatchObject({ lastError: 'boom', attempts: 3 });
    expect(JSON.parse(letters[0]?.body ?? '')).toEqual({ id: letters[0]?.messageId });
    expect((await listArchivedLetters(connection, exchange, SERVICE)).map((l) => l.messageId)).toEqual([
      'archived-1',
    ]);
    const retrying = await connection.queueDeclare({ queue: retryQueue, passive: true });
    expect(retrying.messageCount).toBe(1);
    // The work queue kept its message and has every binding of the service again.
    const publisher = connection.createPublisher({ confirm: true });
    for (const routingKey of BINDINGS) await publisher.send({ exchange, routingKey }, { routingKey });
    await publisher.close();
    const work = await connection.queueDeclare({ queue, passive: true });
    expect(work.messageCount).toBe(1 + BINDINGS.length);
    // Nothing left behind, and nothing more to do.
    for (const name of [deadLetterQueue, archiveQueue, retryQueue]) {
      const left = await connection.queueDeclare({ queue: `${name}.upgrading`, passive: true }).then(
        () => true,
        () => false,
      );
      expect(left, `${name}.upgrading`).toBe(false);
    }
    expect(await upgradeQueues(connection, exchange, SERVICE, OPTIONS)).toEqual([]);
  });
});
