import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorHeaders, testToken, waitFor } from '@platform/testing';
import { ask, startTestSystem, type OrderView, type StockLevel, type TestSystem } from './system.harness.js';

// SPEC §2: every cancellation reason leaves stock and money as they were.
let system: TestSystem;
let q: ReturnType<typeof ask>;

beforeAll(async () => {
  system = await startTestSystem('compensation');
  q = ask(system);
}, 60_000);
afterAll(async () => system.remove(), 60_000);

const finalState = (id: string, timeoutMs?: number): Promise<OrderView> => q.finalOrder(id, timeoutMs);

/** Waits until inventory is idle again (nothing reserved), then returns the level. */
async function settledStock(productCode: string, expected: StockLevel): Promise<StockLevel> {
  await waitFor(`${productCode} settled`, async () => {
    const level = await q.stock(productCode);
    return level.reserved === expected.reserved && level.available === expected.available;
  });
  return q.stock(productCode);
}

const orderOf = (productCode: string, quantity = 1, userId = 'customer-123') => ({
  user_id: userId,
  items: [{ product_code: productCode, quantity }],
});

describe('every cancellation reason leaves stock and money as they were', () => {
  it.each([
    ['user_not_found', orderOf('classic-box', 1, 'nobody-at-all')],
    ['product_not_found', orderOf('no-such-box')],
    [
      'total_mismatch',
      { customer_id: 'customer-123', items: [{ product_id: 'product-A', quantity: 1 }], total_amount: 999 },
    ],
    ['out_of_stock', orderOf('product-C')],
    ['dependency_unavailable', orderOf('veggie-box')],
  ])('%s: cancelled before anything was reserved or charged', async (reason, body) => {
    const before = await q.allStock();
    const id = await q.placeOrder(body);
    expect(await finalState(id)).toMatchObject({ status: 'CANCELLED', reason });
    expect(await q.allStock()).toEqual(before);
    expect(await q.gateway(id)).toBeUndefined();
    await waitFor('notified', async () => (await q.notificationKinds(id)).includes('order.cancelled'));
  });

  it('payment_failed: the reservation is released, nothing charged', async () => {
    system.chance.payment = () => 0.95;
    try {
      const before = await q.stock('classic-box');
      const id = await q.placeOrder(orderOf('classic-box', 2));
      expect(await finalState(id)).toMatchObject({ status: 'CANCELLED', reason: 'payment_failed' });
      expect(await settledStock('classic-box', before)).toEqual(before);
      expect(await q.netCharged(id)).toBe(0);
    } finally {
      system.chance.payment = () => 0.5;
    }
  });

  it('placement_failed: the charge is refunded and the reservation released', async () => {
    system.chance.fulfilment = () => 0.01; // the partner fails every placement until the deadline
    try {
      const before = await q.stock('classic-box');
      const id = await q.placeOrder(orderOf('classic-box', 3));
      expect(await finalState(id)).toMatchObject({ status: 'CANCELLED', reason: 'placement_failed' });
      expect(await settledStock('classic-box', before)).toEqual(before);
      await waitFor('refunded', async () => (await q.gateway(id))?.refund !== null);
      expect(await q.gateway(id)).toMatchObject({ charge: { amount: 29.97 }, refund: { amount: 29.97 } });
      await waitFor('refund notified', async () =>
        (await q.notificationKinds(id)).includes('payment.refunded'),
      );
      expect(await q.notificationKinds(id)).toEqual([
        'order.cancelled',
        'payment.processed',
        'payment.refunded',
      ]);
      // The history has every step, each from the event that ended the saga (fulfilment.failed's steps).
      expect((await q.order(id)).timeline.map((entry) => entry.step)).toEqual([
        'placed',
        'priced',
        'stock_reserved',
        'paid',
        'placement_failed',
        'cancelled',
      ]);
    } finally {
      system.chance.fulfilment = () => 0.5;
    }
  });

  it('customer_request after the charge: refunded, released, never placed', async () => {
    system.chance.fulfilment = () => 0.01;
    try {
      const before = await q.stock('classic-box');
      const id = await q.placeOrder(orderOf('classic-box', 1));
      // Charged at the gateway: the order service hears of it only with the event that ends the saga.
      await waitFor('paid', async () => (await q.gateway(id))?.charge != null);
      const cancel = await fetch(`${system.urls.order}/api/orders/${id}/cancel`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await testToken('customer-123')}` },
      });
      expect(cancel.status).toBe(200);
      expect(await finalState(id)).toMatchObject({ status: 'CANCELLED', reason: 'customer_request' });
      expect(await settledStock('classic-box', before)).toEqual(before);
      await waitFor(
        'refunded',
        async () => (await q.netCharged(id)) === 0 && (await q.gateway(id))?.refund != null,
      );
      const partner = await fetch(`${system.partnerUrl}/placements/${id}`);
      expect(partner.status).toBe(404);
      await new Promise((resolve) => setTimeout(resolve, 3_000)); // past the placement deadline
      expect((await q.order(id)).status).toBe('CANCELLED');
    } finally {
      system.chance.fulfilment = () => 0.5;
    }
  });

  it('timeout: an order stuck behind a stopped fulfilment service is cancelled at the saga deadline and compensated', async () => {
    await system.stop('fulfilment');
    try {
      const before = await q.stock('classic-box');
      const id = await q.placeOrder(orderOf('classic-box', 4));
      await waitFor('paid', async () => (await q.gateway(id))?.charge != null);
      expect(await finalState(id, 30_000)).toMatchObject({ status: 'CANCELLED', reason: 'timeout' });
      expect(await settledStock('classic-box', before)).toEqual(before);
      await waitFor('refunded', async () => (await q.gateway(id))?.refund != null);
      expect(await q.netCharged(id)).toBe(0);
    } finally {
      await system.start('fulfilment');
    }
  }, 60_000);
});

const run = promisify(execFile);
/** `npm run orders -- …` against the order service's database; resolves with its exit code and output. */
const ordersCommand = async (...args: string[]) =>
  run(process.execPath, ['services/order/dist/src/orders-command.js', ...args], {
    env: { ...process.env, ORDER_DATABASE_URL: system.databases.order.url },
  }).then(
    ({ stdout }) => ({ code: 0, stdout }),
    (error: unknown) => {
      const { code, stdout } = error as { code: number; stdout: string };
      return { code, stdout };
    },
  );

// Runs after the tests above: the orders of every cancellation reason are in the database by now.
describe("the order's history (seed 001's audit trail)", () => {
  it('gives every change of an order in order, with what each carried', async () => {
    const id = await q.placeOrder(orderOf('classic-box', 1));
    expect(await finalState(id)).toMatchObject({ status: 'COMPLETED' });
    const operator = await operatorHeaders();
    const { events } = (await (
      await fetch(`${system.urls.order}/orders/${id}/events`, { headers: operator })
    ).json()) as {
      events: { position: number; step: string; data?: Record<string, unknown>; event_id: string | null }[];
    };
    expect(events.map((event) => event.step)).toEqual([
      'placed',
      'priced',
      'stock_reserved',
      'paid',
      'fulfilment_placed',
      'completed',
    ]);
    expect(events.map((event) => event.position)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events[1]?.data).toMatchObject({ customer_fullname: 'Grace Hopper', total_amount: 9.99 });
    expect(events[3]?.data).toMatchObject({ amount: 9.99 });
    expect(events[3]?.event_id).toEqual(expect.any(String));
    expect(
      (await fetch(`${system.urls.order}/orders/${crypto.randomUUID()}/events`, { headers: operator }))
        .status,
    ).toBe(404);
  });

  it('refuses to change or delete a change once written', async () => {
    await expect(system.databases.order.query("UPDATE order_history SET step = 'completed'")).rejects.toThrow(
      /append-only/,
    );
    await expect(system.databases.order.query('DELETE FROM order_history')).rejects.toThrow(/append-only/);
  });

  it('rebuilds every order of every outcome from its history (the steps the final events brought), identical to its row; finds and repairs a drifted row', async () => {
    const orders = await system.databases.order.query<{ id: string; reason: string | null }>(
      'SELECT id, reason FROM orders',
    );
    const reasons = new Set(orders.map((order) => order.reason ?? 'completed'));
    for (const outcome of [
      'completed',
      'user_not_found',
      'product_not_found',
      'total_mismatch',
      'out_of_stock',
      'dependency_unavailable',
      'payment_failed',
      'placement_failed',
      'customer_request',
      'timeout',
    ]) {
      expect(reasons, outcome).toContain(outcome);
    }
    const check = await ordersCommand('rebuild');
    expect(check.stdout).toContain(
      `${orders.length} order(s) rebuilt from their histories: every row is identical`,
    );
    expect(check.code).toBe(0);

    // A row changed behind the state machine's back is found, and rewritten from its history.
    const [drifted] = orders.filter((order) => order.reason === 'timeout');
    if (!drifted) throw new Error('no timed-out order');
    await system.databases.order.query(
      "UPDATE orders SET status = 'COMPLETED', reason = NULL WHERE id = $1",
      [drifted.id],
    );
    const found = await ordersCommand('rebuild', drifted.id);
    expect(found.code).toBe(1);
    expect(found.stdout).toContain(`- ${drifted.id}: status, reason differ from its history`);
    expect((await ordersCommand('rebuild', drifted.id, '--repair')).code).toBe(0);
    expect(await q.order(drifted.id)).toMatchObject({ status: 'CANCELLED', reason: 'timeout' });
    expect((await ordersCommand('rebuild')).code).toBe(0);
  });
});
