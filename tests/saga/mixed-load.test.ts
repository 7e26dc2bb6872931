import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderEvents } from '@platform/contracts';
import { operatorToken, TEST_RABBITMQ_URL, waitFor } from '@platform/testing';
import { ask, http, startTestSystem, type OrderView, type TestSystem } from './system.harness.js';

// SPEC §4 under load: 200 mixed orders with the gateway's real 80%, a service restarted in the middle, a
// poison message: every order final, stock conserved, money equal to what was completed, one
// notification per order and kind.
let system: TestSystem;
let q: ReturnType<typeof ask>;

beforeAll(async () => {
  system = await startTestSystem('mixed', { SAGA_DEADLINE_MS: '45000' });
  q = ask(system);
  system.chance.payment = Math.random;
  system.chance.fulfilment = Math.random;
}, 60_000);
afterAll(async () => system.remove(), 60_000);

const INITIAL_STOCK: Record<string, number> = {
  'product-A': 10,
  'product-B': 5,
  'product-C': 0,
  'classic-box': 1000,
  'family-box': 1000,
  'veggie-box': 1000,
};

const BODIES = [
  { customer_id: 'customer-123', items: [{ product_id: 'product-A', quantity: 1 }] },
  { customer_id: 'customer-123', items: [{ product_id: 'product-B', quantity: 1 }] },
  { customer_id: 'customer-123', items: [{ product_id: 'product-C', quantity: 1 }] },
  { user_id: '7c11e1ce2741', items: [{ product_code: 'classic-box', quantity: 2 }] },
  { user_id: 'e6f24d7d1c7e', product_code: 'classic-box' },
  { user_id: '7c11e1ce2741', product_code: 'veggie-box' },
  { user_id: 'unknown-user', product_code: 'classic-box' },
  {
    customer_id: 'customer-123',
    items: [
      { product_id: 'product-A', quantity: 1 },
      { product_id: 'classic-box', quantity: 1 },
    ],
  },
];

const command = promisify(execFile);
const runDlq = (...args: string[]) =>
  command(process.execPath, ['tools/dist/dlq/main.js', ...args], {
    env: { ...process.env, RABBITMQ_URL: TEST_RABBITMQ_URL, RABBITMQ_EXCHANGE: system.exchange.name },
  });

describe('200 mixed orders', () => {
  it('all end final with conservation, exact money and one notification per kind, across a payment restart and a poison message', async () => {
    // A poison message in inventory's queue, among the orders.
    await system.exchange.publish(OrderEvents.created, {
      id: 'poison-mixed',
      type: OrderEvents.created,
      correlation_id: 'nobody',
      payload: { order: { order_id: 42 } },
    });

    const ids: string[] = [];
    const place = async (from: number, to: number) => {
      const batch = [];
      for (let i = from; i < to; i += 1) batch.push(q.placeOrder(BODIES[i % BODIES.length]));
      ids.push(...(await Promise.all(batch)));
    };
    await place(0, 80);
    // The payment service goes away under traffic, and comes back.
    await system.stop('payment');
    await place(80, 160);
    // Some customers change their minds.
    await Promise.all(
      ids
        .slice(0, 200)
        .filter((_, i) => i % 17 === 0)
        .map(async (id) =>
          http(`${system.urls.order}/orders/${id}/cancel`, { method: 'POST', token: await operatorToken() }),
        ),
    );
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await system.start('payment');
    await place(160, 200);
    expect(ids).toHaveLength(200);

    const orders = new Map<string, OrderView>();
    await waitFor(
      'every order final',
      async () => {
        for (const id of ids) {
          if (orders.has(id)) continue;
          const order = await q.order(id);
          if (order.status !== 'PENDING') orders.set(id, order);
        }
        return orders.size === ids.length;
      },
      60_000,
    );

    // Conservation, once inventory is idle: nothing reserved for a final order.
    await waitFor(
      'inventory idle',
      async () => (await q.allStock()).every((level) => level.reserved === 0),
      20_000,
    );
    for (const level of await q.allStock()) {
      expect(level.available + level.reserved + level.sold, level.product_code).toBe(
        INITIAL_STOCK[level.product_code],
      );
    }
    const completed = [...orders.values()].filter((order) => order.status === 'COMPLETED');
    expect(completed.length).toBeGreaterThan(50);
    const soldA = completed
      .flatMap((o) => o.items)
      .filter((i) => i.product_code === 'product-A')
      .reduce((n, i) => n + i.quantity, 0);
    expect((await q.stock('product-A')).sold).toBe(soldA);

    // Money: net charges equal the totals of completed orders, order by order, once refunds are done.
    await waitFor(
      'refunds done',
      async () => {
        for (const order of orders.values()) {
          const net = await q.netCharged(order.id);
          if (net !== (order.status === 'COMPLETED' ? order.total_amount : 0)) return false;
        }
        return true;
      },
      30_000,
    );

    // Notifications: each final order announced once, each kind at most once.
    await waitFor(
      'notified',
      async () => {
        for (const order of orders.values()) {
          const kinds = await q.notificationKinds(order.id);
          if (new Set(kinds).size !== kinds.length) throw new Error(`duplicate notification for ${order.id}`);
          if (!kinds.includes(order.status === 'COMPLETED' ? 'order.completed' : 'order.cancelled'))
            return false;
        }
        return true;
      },
      20_000,
    );

    // The poison message went to inventory's dead-letter queue; the command lists and replays it.
    await waitFor('dead-lettered', async () =>
      (await runDlq('list', 'inventory')).stdout.includes('poison-mixed'),
    );
    const replay = await runDlq('replay', 'inventory', 'poison-mixed');
    expect(replay.stdout).toContain('replayed 1 dead letter(s)');
    // Replayed, it is refused again at once and is back in the dead-letter queue, having changed nothing.
    await waitFor('dead-lettered again', async () =>
      (await runDlq('list', 'inventory')).stdout.includes('poison-mixed'),
    );

    // Every order row is the fold of its history, through a restart and concurrent cancellations.
    const rebuild = await command(
      process.execPath,
      ['services/order/dist/src/orders-command.js', 'rebuild'],
      {
        env: { ...process.env, ORDER_DATABASE_URL: system.databases.order.url },
      },
    );
    expect(rebuild.stdout).toContain('200 order(s) rebuilt from their histories: every row is identical');
  }, 180_000);
});
