import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InventoryEvents, OrderEvents } from '@platform/contracts';
import { listDeadLetters } from '@platform/messaging';
import {
  createTestDatabase,
  startTcpProxy,
  waitFor,
  type CapturedMessage,
  type TcpProxy,
} from '@platform/testing';
import { orderEvent, pricedOrder, startTestInventory, type TestInventory } from './inventory.harness.js';

// An outage of the service's own database says nothing about the events that arrive during it: they
// must wait it out, not use up their attempts and end in the dead-letter queue.
let proxy: TcpProxy;
let inventory: TestInventory;
let published: CapturedMessage[];

beforeAll(async () => {
  const database = await createTestDatabase('inventory_outage');
  proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
  inventory = await startTestInventory('inventory_outage', {
    database,
    env: { INVENTORY_DATABASE_URL: proxy.url(database.url), INVENTORY_PG_POOL_MAX: '4' },
  });
  published = await inventory.exchange.capture(['inventory.*']);
});
afterAll(async () => {
  await inventory.remove();
  await proxy.close();
});

describe('inventory during a PostgreSQL outage', () => {
  it('keeps events through an outage longer than the whole retry schedule, then handles each once', async () => {
    await proxy.cut();
    const orders = Array.from({ length: 3 }, () =>
      pricedOrder([{ product_code: 'classic-box', quantity: 1 }]),
    );
    for (const order of orders) {
      await inventory.exchange.publish(OrderEvents.created, orderEvent(OrderEvents.created, order));
    }
    // Three attempts 100 ms and 300 ms apart would dead-letter within a second; the outage lasts three.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const connection = inventory.service.host.broker.connection;
    expect(await listDeadLetters(connection, inventory.exchange.name, 'inventory')).toEqual([]);
    await proxy.restore();
    await waitFor('all reserved', () => published.length === orders.length, 20_000);
    expect(published.every((message) => message.routingKey === InventoryEvents.reserved)).toBe(true);
    expect(await listDeadLetters(connection, inventory.exchange.name, 'inventory')).toEqual([]);
  });
});
