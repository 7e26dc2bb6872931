import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InventoryEvents, OrderEvents, type EventEnvelope } from '@platform/contracts';
import { listDeadLetters } from '@platform/messaging';
import { createLogger } from '@platform/observability';
import { handleSagaEvents, openServiceHost, type ServiceHost } from '@platform/service-host';
import {
  createTestDatabase,
  createTestExchange,
  startTcpProxy,
  TEST_RABBITMQ_URL,
  testServiceEnv,
  waitFor,
  type CapturedMessage,
  type TcpProxy,
  type TestDatabase,
  type TestExchange,
} from '@platform/testing';
import { loadInventoryConfig } from '../src/config.js';
import type { InventoryDatabase } from '../src/database.js';
import { applyStockEvents, loadStock, STOCK_EVENT_TYPES } from '../src/stock/apply-stock-events.js';
import { seedStock, SPEC_INITIAL_STOCK } from '../src/stock/seed-stock.js';
import {
  orderEvent,
  pricedOrder,
  startTestInventory,
  stockOf,
  type TestInventory,
} from './inventory.harness.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const bodyOf = (message: CapturedMessage) => message.body as EventEnvelope;

/**
 * What batching could break (issue 9), each with events that land in one batch: a first event opens a
 * batch at once, and whatever arrives while its transaction is in flight waits and forms the next one (the
 * test holds that transaction on a row lock until the events are there).
 */
describe('inventory events handled in batches', () => {
  let inventory: TestInventory;
  let published: CapturedMessage[];

  beforeAll(async () => {
    inventory = await startTestInventory('inventory_batching', {
      env: { CONSUMER_MAX_CONCURRENT_BATCHES: '1' },
    });
    published = await inventory.exchange.capture(['inventory.*']);
  });
  afterAll(async () => inventory.remove());

  const eventsFor = (orderId: string) =>
    published.filter((message) => bodyOf(message).correlation_id === orderId);
  const sql = (text: string, values?: unknown[]) => inventory.database.query(text, values);

  /** The consumer's batches so far: how many, and how many events they held in all. */
  async function batches(): Promise<{ count: number; events: number }> {
    const metrics = await (await fetch(`${inventory.baseUrl}/metrics`)).text();
    const value = (name: string) =>
      Number(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0);
    return { count: value('event_batch_size_count'), events: value('event_batch_size_sum') };
  }

  /**
   * Publishes `events` so that they are handled in one batch: an opening event first (an order.completed
   * for an order inventory never saw: nothing to do), whose transaction waits on a lock of the test's own
   * (classic-box's stock row), then the events, which gather behind it; the lock is let go once they have
   * arrived. Checks that they did form one batch.
   */
  async function publishInOneBatch(events: EventEnvelope[]): Promise<void> {
    const before = await batches();
    const holder = new pg.Client({ connectionString: inventory.database.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query("SELECT 1 FROM stock WHERE product_code = 'classic-box' FOR UPDATE");
      const opener = orderEvent(
        OrderEvents.completed,
        pricedOrder([{ product_code: 'classic-box', quantity: 1 }]),
      );
      await inventory.exchange.publish(opener.type, opener);
      await waitFor('the opening batch to wait on the lock', async () => {
        const waiting = await sql(
          "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        return waiting.length > 0;
      });
      for (const event of events) await inventory.exchange.publish(event.type, event);
      await sleep(300); // delivered, and waiting for the next batch
    } finally {
      await holder.query('COMMIT').finally(() => holder.end());
    }
    await waitFor(
      'both batches handled',
      async () => (await batches()).events === before.events + 1 + events.length,
    );
    const after = await batches();
    expect(after.count - before.count, 'the opening batch and one batch for the events').toBe(2);
  }

  it('applies two events of one order in one batch in their order: reserved, then sold', async () => {
    const order = pricedOrder([{ product_code: 'product-A', quantity: 2 }]);
    const before = await stockOf(inventory.baseUrl, 'product-A');
    await publishInOneBatch([
      orderEvent(OrderEvents.created, order),
      orderEvent(OrderEvents.completed, order),
    ]);
    expect(await stockOf(inventory.baseUrl, 'product-A')).toEqual({
      ...before,
      available: before.available - 2,
      sold: before.sold + 2,
    });
    expect((await sql('SELECT status FROM reservations WHERE order_id = $1', [order.order_id]))[0]).toEqual({
      status: 'sold',
    });
    await waitFor('inventory.reserved', () => eventsFor(order.order_id).length === 1);
  });

  it('lets a cancellation that overtook its order.created win inside one batch: nothing is reserved', async () => {
    const order = pricedOrder([{ product_code: 'family-box', quantity: 3 }]);
    const before = await stockOf(inventory.baseUrl, 'family-box');
    await publishInOneBatch([
      orderEvent(OrderEvents.cancelled, order, 'customer_request'),
      orderEvent(OrderEvents.created, order),
    ]);
    await sleep(300);
    expect(await stockOf(inventory.baseUrl, 'family-box')).toEqual(before);
    expect(eventsFor(order.order_id)).toHaveLength(0);
    expect((await sql('SELECT status FROM reservations WHERE order_id = $1', [order.order_id]))[0]).toEqual({
      status: 'cancelled',
    });
  });

  it('has one effect for two copies of one event in one batch', async () => {
    const order = pricedOrder([{ product_code: 'veggie-box', quantity: 5 }]);
    const before = await stockOf(inventory.baseUrl, 'veggie-box');
    const created = orderEvent(OrderEvents.created, order);
    await publishInOneBatch([created, created]);
    await waitFor('inventory.reserved', () => eventsFor(order.order_id).length >= 1);
    await sleep(300);
    expect(eventsFor(order.order_id)).toHaveLength(1);
    expect(await stockOf(inventory.baseUrl, 'veggie-box')).toMatchObject({
      available: before.available - 5,
      reserved: before.reserved + 5,
    });
    expect(await sql('SELECT 1 FROM inbox WHERE event_id = $1', [created.id])).toHaveLength(1);
  });

  it('retries only the event that fails a batch: the others take effect once, it alone ends as a dead letter', async () => {
    const first = pricedOrder([{ product_code: 'classic-box', quantity: 1 }]);
    const third = pricedOrder([{ product_code: 'classic-box', quantity: 1 }]);
    // A product code PostgreSQL refuses to store (a NUL character) fails the batch's statements.
    const failing = pricedOrder([{ product_code: 'classic\u0000box', quantity: 1 }]);
    const before = await stockOf(inventory.baseUrl, 'classic-box');
    const poison = orderEvent(OrderEvents.created, failing);
    await publishInOneBatch([
      orderEvent(OrderEvents.created, first),
      poison,
      orderEvent(OrderEvents.created, third),
    ]);
    await waitFor('the two good orders reserved', () =>
      [first, third].every((order) => eventsFor(order.order_id).length === 1),
    );
    const connection = inventory.service.host.broker.connection;
    await waitFor('the failing event dead-lettered after its attempts', async () =>
      (await listDeadLetters(connection, inventory.exchange.name, 'inventory')).some(
        (letter) => letter.messageId === poison.id,
      ),
    );
    const letter = (await listDeadLetters(connection, inventory.exchange.name, 'inventory')).find(
      (l) => l.messageId === poison.id,
    );
    expect(letter?.attempts).toBe(3);
    // Its retries did not apply the others again.
    expect(await stockOf(inventory.baseUrl, 'classic-box')).toMatchObject({
      available: before.available - 2,
      reserved: before.reserved + 2,
    });
    expect([first, third].map((order) => eventsFor(order.order_id).length)).toEqual([1, 1]);
    expect(eventsFor(failing.order_id)).toHaveLength(0);
  });
});

describe('inventory losing its broker connection between a batch commit and its acks', () => {
  let database: TestDatabase;
  let exchange: TestExchange;
  let proxy: TcpProxy;
  let host: ServiceHost<InventoryDatabase, 'inventory'>;
  let cutAfterCommit: ((ids: string[]) => Promise<void>) | undefined;

  beforeAll(async () => {
    database = await createTestDatabase('inventory_crash_before_ack');
    exchange = await createTestExchange('inventory_crash_before_ack');
    const broker = new URL(TEST_RABBITMQ_URL);
    proxy = await startTcpProxy({ host: broker.hostname, port: Number(broker.port || 5672) });
    const config = loadInventoryConfig({
      ...testServiceEnv('INVENTORY', database, exchange),
      RABBITMQ_URL: proxy.url(TEST_RABBITMQ_URL),
    });
    const logger = createLogger({ service: 'inventory', level: config.logLevel });
    host = await openServiceHost<InventoryDatabase, 'inventory'>({
      service: 'inventory',
      config,
      moduleUrl: new URL('../src/inventory-service.ts', import.meta.url).href,
      logger,
    });
    // The host alone, without the service's composition root: its start-up seeding is done here.
    await seedStock(host.db, SPEC_INITIAL_STOCK);
    const apply = handleSagaEvents({
      logger,
      transact: host.transact,
      consumer: 'inventory',
      types: STOCK_EVENT_TYPES,
      load: loadStock,
      apply: applyStockEvents,
    });
    // The batch commits, then the broker connection dies before the acks go out, as if the process had
    // crashed right after its commit.
    const consumer = host.consume({
      types: apply.types,
      async handle(events) {
        const results = await apply.handle(events);
        await cutAfterCommit?.(events.map((event) => event.envelope.id));
        return results;
      },
    });
    await consumer.ready;
  });
  afterAll(async () => {
    await host.stop();
    await proxy.close();
    await exchange.remove();
    await database.drop();
  });

  it('absorbs the redelivery of the batch: stock moved once, one inventory.reserved', async () => {
    const published = await exchange.capture(['inventory.*']);
    const order = pricedOrder([{ product_code: 'product-B', quantity: 2 }]);
    const created = orderEvent(OrderEvents.created, order);
    let cuts = 0;
    cutAfterCommit = async (ids) => {
      if (!ids.includes(created.id) || cuts > 0) return;
      cuts += 1;
      await proxy.cut();
      setTimeout(() => void proxy.restore(), 300);
    };
    await exchange.publish(created.type, created);

    // Delivered again once the connection is back (it was never acked), found in the inbox, no effect.
    await waitFor(
      'the redelivery handled',
      async () => {
        const metrics = await host.registry.getSingleMetric('events_consumed_total')?.get();
        const handled = metrics?.values.find(
          (value) => value.labels.type === OrderEvents.created && value.labels.outcome === 'handled',
        );
        return (handled?.value ?? 0) >= 2;
      },
      20_000,
    );
    await waitFor(
      'inventory.reserved',
      () => published.some((m) => m.routingKey === InventoryEvents.reserved),
      20_000,
    );
    await sleep(2_500); // past the relay's minimum age: anything left in the outbox would go out now
    const stock = await database.query('SELECT available, reserved FROM stock WHERE product_code = $1', [
      'product-B',
    ]);
    expect(stock).toEqual([{ available: 3, reserved: 2 }]);
    expect(await database.query('SELECT 1 FROM inbox WHERE event_id = $1', [created.id])).toHaveLength(1);
    // At least once on the wire (a confirm lost in the cut may be published again), once by id.
    const ids = new Set(
      published.filter((m) => m.routingKey === InventoryEvents.reserved).map((m) => bodyOf(m).id),
    );
    expect(ids.size).toBe(1);
    expect(cuts).toBe(1);
  });
});
