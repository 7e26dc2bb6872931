import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { Registry } from 'prom-client';
import { ccRoutingKeysOf, createEnvelope, type EventEnvelope } from '@platform/contracts';
import { connectBroker, type Broker } from '@platform/messaging';
import { createLogger } from '@platform/observability';
import { commitWith, createKysely, createPool, migrate, type Pool } from '@platform/postgres';
import {
  createTestDatabase,
  createTestExchange,
  startTcpProxy,
  TEST_RABBITMQ_URL,
  waitFor,
  type CapturedMessage,
  type TestDatabase,
  type TestExchange,
} from '@platform/testing';
import {
  appendToOutbox,
  createOutboxMetrics,
  createOutboxPublisher,
  outboxMigrations,
  startOutboxRelay,
  type OutboxPublisher,
  type OutboxRelay,
} from '../src/index.js';

const RABBITMQ = new URL(TEST_RABBITMQ_URL);
const logger = createLogger({ service: 'outbox-test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });

let database: TestDatabase;
let exchange: TestExchange;
let pool: Pool;
let db: Kysely<unknown>;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  database = await createTestDatabase('outbox');
  pool = createPool({ connectionString: database.url, max: 10, applicationName: 'outbox-test' });
  await migrate(pool, await outboxMigrations());
  db = createKysely<unknown>(pool);
});

afterAll(async () => {
  await pool.end();
  await database.drop();
});

beforeEach(async () => {
  exchange = await createTestExchange('outbox');
  await pool.query('TRUNCATE outbox');
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await exchange.remove();
});

function broker(url = RABBITMQ.toString()): Broker {
  const connected = connectBroker({
    url,
    connectionName: 'outbox-test',
    exchange: exchange.name,
    subscriptions: {},
    logger,
  });
  cleanups.push(() => connected.close());
  return connected;
}

function relay(options: Partial<Parameters<typeof startOutboxRelay>[0]> & { broker: Broker }): OutboxRelay {
  const started = startOutboxRelay({ pool, logger, pollIntervalMs: 200, minAgeMs: 0, ...options });
  cleanups.push(() => started.stop());
  return started;
}

function publisher(
  connected: Broker,
  metrics?: ReturnType<typeof createOutboxMetrics>,
): OutboxPublisher<unknown> {
  const started = createOutboxPublisher<unknown>({ pool, broker: connected, logger, metrics });
  cleanups.push(() => started.close());
  return started;
}

function events(count: number, type = 'thing.happened'): EventEnvelope[] {
  return Array.from({ length: count }, (_, i) =>
    createEnvelope({ type, producer: 'test', correlationId: `c-${i}`, payload: { n: i } }),
  );
}

/** Writes events in transactions of `perTransaction`, as services do alongside their changes. */
async function write(all: EventEnvelope[], perTransaction = 25): Promise<void> {
  for (let i = 0; i < all.length; i += perTransaction) {
    await db.transaction().execute((trx) => appendToOutbox(trx, all.slice(i, i + perTransaction)));
  }
}

function expectEachExactlyOnce(received: CapturedMessage[], sent: EventEnvelope[]): void {
  const counts = new Map<string, number>();
  for (const message of received)
    counts.set(message.messageId ?? '', (counts.get(message.messageId ?? '') ?? 0) + 1);
  expect(counts.size).toBe(sent.length);
  for (const event of sent) expect(counts.get(event.id), `deliveries of ${event.id}`).toBe(1);
  expect(received).toHaveLength(sent.length);
}

async function unpublished(): Promise<number> {
  return Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM outbox')).rows[0]?.n);
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('outbox relay', () => {
  it('publishes every row exactly once, as written, then removes it from the outbox', async () => {
    const received = await exchange.capture(['#']);
    const sent = events(300);
    await write(sent);
    relay({ broker: broker(), batchSize: 64 });

    await waitFor('every event delivered', () => received.length >= sent.length);
    await waitFor('every row removed from the outbox', async () => (await unpublished()) === 0);
    await settle(300); // room for any duplicate to show up
    expectEachExactlyOnce(received, sent);
    const first = received.find((m) => m.messageId === sent[0]?.id);
    expect(first?.body).toEqual(sent[0]);
    expect(first?.routingKey).toBe('thing.happened');
  });

  it('shares the work between two relays without publishing any row twice', async () => {
    const received = await exchange.capture(['#']);
    const sent = events(2000);
    const registries = [new Registry(), new Registry()];
    const metrics = registries.map((registry) => createOutboxMetrics(registry, pool));
    // Rows keep arriving while both relays drain, as they would under traffic.
    const writing = write(sent, 40);
    relay({ broker: broker(), batchSize: 50, metrics: metrics[0] });
    relay({ broker: broker(), batchSize: 50, metrics: metrics[1] });
    await writing;

    await waitFor('every event delivered', () => received.length >= sent.length, 30_000);
    await waitFor('every row removed from the outbox', async () => (await unpublished()) === 0);
    await settle(300);
    expectEachExactlyOnce(received, sent);
    const counts = await Promise.all(
      registries.map(
        async (registry) =>
          (await registry.getSingleMetric('outbox_published_total')?.get())?.values[0]?.value,
      ),
    );
    expect(counts.reduce((a, b) => (a ?? 0) + (b ?? 0), 0)).toBe(sent.length);
    expect(
      counts.every((count) => (count ?? 0) > 0),
      `both relays published (${counts.join(' / ')})`,
    ).toBe(true);
  });

  it('leaves rows younger than its minimum age to their writer', async () => {
    const received = await exchange.capture(['#']);
    relay({ broker: broker(), minAgeMs: 1_500 });
    const sent = events(3);
    await write(sent);
    await settle(600);
    expect(received).toHaveLength(0);
    await waitFor('the rows, once old enough', () => received.length === sent.length, 5_000);
    expectEachExactlyOnce(received, sent);
  });
  it('sends the extra routing keys it is given as CC: order.created also reaches created_order (seed 000)', async () => {
    const legacy = await exchange.capture(['created_order']);
    const modern = await exchange.capture(['order.created']);
    const sent = [...events(1, 'order.created'), ...events(1, 'order.placed')];
    await write(sent);
    relay({ broker: broker(), ccRoutingKeys: ccRoutingKeysOf });
    await waitFor('both queues served', () => legacy.length === 1 && modern.length === 1);
    await settle(200);
    expect(legacy.map((m) => m.messageId)).toEqual([sent[0]?.id]);
    expect(modern.map((m) => m.messageId)).toEqual([sent[0]?.id]);
  });

  it('keeps every row while RabbitMQ is unreachable, then publishes each once', async () => {
    const received = await exchange.capture(['#']);
    const proxy = await startTcpProxy({ host: RABBITMQ.hostname, port: Number(RABBITMQ.port || 5672) });
    cleanups.push(() => proxy.close());
    const connected = broker(proxy.url(RABBITMQ.toString()));
    const registry = new Registry();
    const metrics = createOutboxMetrics(registry, pool);
    relay({ broker: connected, metrics });
    const before = events(50);
    await write(before);
    await waitFor('events before the outage', () => received.length === before.length);
    // Confirmed and deleted too: a confirm lost in the cut would leave a row (and a duplicate) behind.
    await waitFor('the outbox emptied before the outage', async () => (await unpublished()) === 0);

    await proxy.cut();
    await waitFor('the relay to see the outage', () => !connected.isConnected());
    const during = events(200);
    await write(during);
    await settle(1_500);
    expect(await unpublished()).toBe(during.length);
    expect(received).toHaveLength(before.length);
    const backlog = (await registry.getSingleMetric('outbox_backlog_messages')?.get())?.values[0]?.value;
    expect(backlog).toBe(during.length);

    await proxy.restore();
    await waitFor('the backlog to flow', () => received.length >= before.length + during.length, 20_000);
    await waitFor('every row removed from the outbox', async () => (await unpublished()) === 0);
    await settle(300);
    expectEachExactlyOnce(received, [...before, ...during]);
  });
});

describe('outbox publisher', () => {
  it('publishes the events of a transaction right after it commits, and then deletes their rows', async () => {
    const received = await exchange.capture(['#']);
    const connected = broker();
    await waitFor('broker connection', () => connected.isConnected());
    const registry = new Registry();
    const metrics = createOutboxMetrics(registry, pool);
    const { transact } = publisher(connected, metrics);
    const sent = events(30);
    const answer = await transact(async (trx) => {
      await appendToOutbox(trx, sent.slice(0, 10));
      await appendToOutbox(trx, sent.slice(10));
      return 'committed';
    });
    expect(answer).toBe('committed');
    // No relay runs: only the publisher can have sent them.
    await waitFor('every event delivered', () => received.length === sent.length, 5_000);
    await waitFor('every row removed from the outbox', async () => (await unpublished()) === 0);
    await settle(200);
    expectEachExactlyOnce(received, sent);
    expect(received.find((m) => m.messageId === sent[0]?.id)?.body).toEqual(sent[0]);
    const published = (await registry.getSingleMetric('outbox_published_total')?.get())?.values[0]?.value;
    expect(published).toBe(sent.length);
  });

  it('publishes nothing of a transaction that rolled back', async () => {
    const received = await exchange.capture(['#']);
    const connected = broker();
    await waitFor('broker connection', () => connected.isConnected());
    const { transact } = publisher(connected);
    await expect(
      transact(async (trx) => {
        await appendToOutbox(trx, events(5));
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await settle(300);
    expect(received).toHaveLength(0);
    expect(await unpublished()).toBe(0);
  });

  it('leaves what it could not publish (RabbitMQ unreachable) to the relay, which sends each once', async () => {
    const received = await exchange.capture(['#']);
    const proxy = await startTcpProxy({ host: RABBITMQ.hostname, port: Number(RABBITMQ.port || 5672) });
    cleanups.push(() => proxy.close());
    const connected = broker(proxy.url(RABBITMQ.toString()));
    await waitFor('broker connection', () => connected.isConnected());
    const { transact } = publisher(connected);
    await proxy.cut();
    await waitFor('the outage seen', () => !connected.isConnected());
    const sent = events(20);
    await transact((trx) => appendToOutbox(trx, sent));
    await settle(500);
    expect(received).toHaveLength(0);
    expect(await unpublished()).toBe(sent.length);

    await proxy.restore();
    relay({ broker: connected, minAgeMs: 500 });
    await waitFor('the relay to publish them', () => received.length >= sent.length, 20_000);
    await waitFor('every row removed from the outbox', async () => (await unpublished()) === 0);
    await settle(300);
    expectEachExactlyOnce(received, sent);
  });

  it("deletes the rows it published with the next transaction's COMMIT, without a statement of their own", async () => {
    const received = await exchange.capture(['#']);
    const connected = broker();
    await waitFor('broker connection', () => connected.isConnected());
    const registry = new Registry();
    const metrics = createOutboxMetrics(registry, pool);
    const { transact } = publisher(connected, metrics);
    const published = async () =>
      (await registry.getSingleMetric('outbox_published_total')?.get())?.values[0]?.value ?? 0;
    const first = events(3);
    await transact((trx) => appendToOutbox(trx, first));
    await waitFor('the first events confirmed', async () => (await published()) === first.length, 5_000);
    const confirmedAt = performance.now();
    // Still there: nothing deleted them yet (a delete of their own would wait half a second).
    expect(await unpublished()).toBe(first.length);
    const second = events(2);
    await transact((trx) => appendToOutbox(trx, second));
    // The first rows went with the second transaction's COMMIT, well before the half second.
    const left = (await pool.query<{ id: string }>('SELECT id FROM outbox')).rows.map((row) => row.id);
    expect(performance.now() - confirmedAt).toBeLessThan(400);
    expect(left.filter((id) => first.some((event) => event.id === id))).toEqual([]);
    await waitFor('every event delivered', () => received.length === first.length + second.length, 5_000);
    await waitFor(
      'the second rows deleted on their own, once the service is quiet',
      async () => (await unpublished()) === 0,
    );
    expectEachExactlyOnce(received, [...first, ...second]);
  });

  it('gives the rows back for a later delete when the transaction that carried their delete fails', async () => {
    const connected = broker();
    await waitFor('broker connection', () => connected.isConnected());
    const registry = new Registry();
    const metrics = createOutboxMetrics(registry, pool);
    const { transact } = publisher(connected, metrics);
    const first = events(2);
    await transact((trx) => appendToOutbox(trx, first));
    await waitFor(
      'the events confirmed',
      async () =>
        ((await registry.getSingleMetric('outbox_published_total')?.get())?.values[0]?.value ?? 0) ===
        first.length,
      5_000,
    );
    // Appending the same events again breaks the outbox's primary key at COMMIT, where the delete of the
    // first rows rides too: both are rolled back.
    await expect(
      transact(async (trx) => {
        commitWith(trx, appendToOutbox(trx, first));
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await unpublished()).toBe(first.length);
    await waitFor('the rows deleted by the next try', async () => (await unpublished()) === 0, 3_000);
  });
});
