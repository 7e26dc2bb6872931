import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor, type CapturedMessage } from '@platform/testing';
import { ask, startTestSystem, type TestSystem } from './system.harness.js';

// SPEC §4.3 for every event type at once: after orders have gone every way (completed, refunded,
// out of stock, payment failed), every event the system published is delivered again. Nothing may change:
// no stock moves, no money moves, no notification, no timeline step, no new event.
let system: TestSystem;
let q: ReturnType<typeof ask>;
let published: CapturedMessage[];

beforeAll(async () => {
  system = await startTestSystem('redelivery');
  q = ask(system);
  published = await system.exchange.capture(['#']);
}, 60_000);
afterAll(async () => system.remove(), 60_000);

async function finalStatus(id: string): Promise<string> {
  const order = await q.finalOrder(id);
  return `${order.status} ${order.reason ?? ''}`.trim();
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 2_500));

describe('every event delivered twice', () => {
  it('has no second effect anywhere', async () => {
    const ids: string[] = [];
    const place = async (body: unknown, expected: string) => {
      const id = await q.placeOrder(body);
      expect(await finalStatus(id)).toBe(expected);
      ids.push(id);
    };
    await place(
      { customer_id: 'customer-123', items: [{ product_id: 'product-A', quantity: 2 }] },
      'COMPLETED',
    );
    await place(
      { customer_id: 'customer-123', items: [{ product_id: 'product-C', quantity: 1 }] },
      'CANCELLED out_of_stock',
    );
    system.chance.payment = () => 0.95;
    await place(
      { customer_id: 'customer-123', items: [{ product_id: 'product-A', quantity: 1 }] },
      'CANCELLED payment_failed',
    );
    system.chance.payment = () => 0.5;
    system.chance.fulfilment = () => 0.01;
    await place(
      { customer_id: 'customer-123', items: [{ product_id: 'product-B', quantity: 2 }] },
      'CANCELLED placement_failed',
    );
    system.chance.fulfilment = () => 0.5;
    await waitFor('refunded', async () => (await q.gateway(ids[3] ?? ''))?.refund != null);
    await settle();

    const snapshot = async () => ({
      stock: await q.allStock(),
      money: await Promise.all(ids.map((id) => q.gateway(id))),
      notifications: await Promise.all(ids.map((id) => q.notificationKinds(id))),
      orders: await Promise.all(ids.map(async (id) => q.order(id))),
    });
    const before = await snapshot();
    const events = [...published];
    const types = new Set(events.map((event) => event.routingKey));
    for (const type of [
      'order.created',
      'order.completed',
      'order.cancelled',
      'inventory.reserved',
      'inventory.unavailable',
      'payment.processed',
      'payment.failed',
      'payment.refunded',
      'fulfilment.placed',
      'fulfilment.failed',
    ]) {
      expect(types, type).toContain(type);
    }

    for (const event of events) await system.exchange.publish(event.routingKey, event.body);
    await waitFor('redelivered', () => published.length === 2 * events.length);
    await settle();

    const after = await snapshot();
    expect(after.stock).toEqual(before.stock);
    expect(after.money).toEqual(before.money);
    expect(after.notifications).toEqual(before.notifications);
    expect(after.orders).toEqual(before.orders);
    // Nothing new was published: only the copies themselves.
    expect(published).toHaveLength(2 * events.length);
  }, 90_000);
});
