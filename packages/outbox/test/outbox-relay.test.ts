import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { Registry } from 'prom-client';
import { createEnvelope, type EventEnvelope } from '@platform/contracts';
import { connectBroker, type Broker } from '@platform/messaging';
import { createLogger } from '@platform/observability';
import { createKysely, createPool, migrate, type Pool } from '@platform/postgres';
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
  outboxMigrations,
  startOutboxRelay,
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
  const started = startOutboxRelay({ pool, logger, pollIntervalMs: 200, ...options });
  cleanups.push(() => started.stop());
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

  it('wakes on NOTIFY instead of waiting for its poll interval', async () => {
    const received = await exchange.capture(['#']);
    const connected = broker();
    await waitFor('broker connection', () => connected.isConnected());
    relay({ broker: connected, pollIntervalMs: 600_000 });
    await settle(300); // the relay has drained and is now waiting
    const sent = events(1);
    const start = Date.now();
    await write(sent);
    await waitFor('the event', () => received.length === 1, 5_000);
    expect(Date.now() - start).toBeLessThan(5_000);
    expectEachExactlyOnce(received, sent);
  });

  it('delivers order.created to a queue bound with seed 000 routing key created_order', async () => {
    const legacy = await exchange.capture(['created_order']);
    const modern = await exchange.capture(['order.created']);
    const sent = [...events(1, 'order.created'), ...events(1, 'order.placed')];
    await write(sent);
    relay({ broker: broker() });
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
