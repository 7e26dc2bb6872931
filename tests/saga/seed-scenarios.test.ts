import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@platform/testing';
import { ask, startTestSystem, type OrderView, type TestSystem } from './system.harness.js';

// SPEC §7 through the whole system: seed 002's curl bodies verbatim on /api/orders, and seed 000's use
// cases, each carried to its final state by the five services and the simulators.
let system: TestSystem;
let q: ReturnType<typeof ask>;

beforeAll(async () => {
  system = await startTestSystem('seeds');
  q = ask(system);
}, 60_000);
afterAll(async () => system.remove(), 60_000);

const finalState = (id: string, timeoutMs?: number): Promise<OrderView> => q.finalOrder(id, timeoutMs);

/** The README's curl example of seed 002, byte for byte. */
const SEED_002_CURL_BODY = JSON.parse(`{
"customer_id": "customer-123",
"items": [
{"product_id": "product-A", "quantity": 2},
{"product_id": "product-B", "quantity": 1}
],
"total_amount": 150.00
}`) as unknown;

describe('seed 002/004 (SPEC §7)', () => {
  it('completes the README curl order: stock sold, charged 150.00, customer notified, timeline complete', async () => {
    const id = await q.placeOrder(SEED_002_CURL_BODY);
    const order = await finalState(id);
    expect(order).toMatchObject({
      status: 'COMPLETED',
      reason: null,
      total_amount: 150,
      customer_fullname: 'Grace Hopper',
    });
    expect(order.timeline.map((entry) => entry.step)).toEqual([
      'placed',
      'priced',
      'stock_reserved',
      'paid',
      'fulfilment_placed',
      'completed',
    ]);
    expect(await q.netCharged(id)).toBe(150);
    await waitFor('stock sold', async () => (await q.stock('product-A')).sold === 2);
    expect(await q.stock('product-A')).toEqual({
      product_code: 'product-A',
      available: 8,
      reserved: 0,
      sold: 2,
    });
    expect(await q.stock('product-B')).toEqual({
      product_code: 'product-B',
      available: 4,
      reserved: 0,
      sold: 1,
    });
    await waitFor('notified', async () => (await q.notificationKinds(id)).length === 2);
    expect(await q.notificationKinds(id)).toEqual(['order.completed', 'payment.processed']);
  });

  it('cancels a product-C order with out_of_stock, reserving nothing and charging nothing', async () => {
    const id = await q.placeOrder({
      customer_id: 'customer-123',
      items: [{ product_id: 'product-C', quantity: 1 }],
    });
    expect(await finalState(id)).toMatchObject({ status: 'CANCELLED', reason: 'out_of_stock' });
    expect(await q.stock('product-C')).toEqual({
      product_code: 'product-C',
      available: 0,
      reserved: 0,
      sold: 0,
    });
    expect(await q.gateway(id)).toBeUndefined();
    await waitFor('notified', async () => (await q.notificationKinds(id)).includes('order.cancelled'));
  });

  it('depletes product-B with repeated orders, then cancels the next one and keeps the stock whole', async () => {
    const { available } = await q.stock('product-B');
    expect(available).toBeGreaterThan(0);
    const completed: string[] = [];
    for (let i = 0; i < available; i += 1) {
      const id = await q.placeOrder({
        customer_id: 'customer-123',
        items: [{ product_id: 'product-B', quantity: 1 }],
      });
      expect((await finalState(id)).status).toBe('COMPLETED');
      completed.push(id);
    }
    const extra = await q.placeOrder({
      customer_id: 'customer-123',
      items: [{ product_id: 'product-B', quantity: 1 }],
    });
    expect(await finalState(extra)).toMatchObject({ status: 'CANCELLED', reason: 'out_of_stock' });
    await waitFor('sold', async () => (await q.stock('product-B')).sold === 5);
    expect(await q.stock('product-B')).toEqual({
      product_code: 'product-B',
      available: 0,
      reserved: 0,
      sold: 5,
    });
  });

  it('cancels with payment_failed after the gateway retries, and gives the stock back', async () => {
    system.chance.payment = () => 0.95; // every charge attempt meets the gateway's transient error
    try {
      const before = await q.stock('product-A');
      const id = await q.placeOrder({
        customer_id: 'customer-123',
        items: [{ product_id: 'product-A', quantity: 3 }],
      });
      expect(await finalState(id)).toMatchObject({ status: 'CANCELLED', reason: 'payment_failed' });
      await waitFor('stock back', async () => (await q.stock('product-A')).reserved === before.reserved);
      expect(await q.stock('product-A')).toEqual(before);
      const gateway = await q.gateway(id);
      expect(gateway?.charge).toBeNull();
      expect((gateway as { failed_attempts?: number } | undefined)?.failed_attempts).toBe(4);
      await waitFor('notified', async () => (await q.notificationKinds(id)).length === 2);
      expect(await q.notificationKinds(id)).toEqual(['order.cancelled', 'payment.failed']);
    } finally {
      system.chance.payment = () => 0.5;
    }
  });
});

describe('seed 000 (SPEC §7)', () => {
  it('completes #1 and #4, cancels #3 (veggie-box) with dependency_unavailable without holding up the rest', async () => {
    const started = Date.now();
    const veggie = await q.placeOrder({ user_id: '7c11e1ce2741', product_code: 'veggie-box' }, '/orders');
    const ada = await q.placeOrder({ user_id: '7c11e1ce2741', product_code: 'classic-box' }, '/orders');
    const alan = await q.placeOrder({ user_id: 'e6f24d7d1c7e', product_code: 'classic-box' }, '/orders');
    expect(Date.now() - started).toBeLessThan(2_000);
    const first = await finalState(ada);
    expect(first).toMatchObject({
      status: 'COMPLETED',
      customer_fullname: 'Ada Lovelace',
      total_amount: 9.99,
    });
    expect(first.items[0]).toMatchObject({ product_name: 'Classic Box', unit_price: 9.99 });
    expect(await finalState(alan)).toMatchObject({ status: 'COMPLETED', customer_fullname: 'Alan Turing' });
    expect(await finalState(veggie)).toMatchObject({ status: 'CANCELLED', reason: 'dependency_unavailable' });
    expect(await q.netCharged(ada)).toBe(9.99);
    expect(await q.gateway(veggie)).toBeUndefined();
  });
});
