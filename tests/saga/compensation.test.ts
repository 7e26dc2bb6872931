import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@platform/testing';
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
      await waitFor('refund in timeline', async () =>
        (await q.order(id)).timeline.some((entry) => entry.step === 'refunded'),
      );
    } finally {
      system.chance.fulfilment = () => 0.5;
    }
  });

  it('customer_request after the charge: refunded, released, never placed', async () => {
    system.chance.fulfilment = () => 0.01;
    try {
      const before = await q.stock('classic-box');
      const id = await q.placeOrder(orderOf('classic-box', 1));
      await waitFor('paid', async () => (await q.order(id)).timeline.some((entry) => entry.step === 'paid'));
      const cancel = await fetch(`${system.urls.order}/api/orders/${id}/cancel`, { method: 'POST' });
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
      await waitFor('paid', async () => (await q.order(id)).timeline.some((entry) => entry.step === 'paid'));
      expect(await finalState(id, 30_000)).toMatchObject({ status: 'CANCELLED', reason: 'timeout' });
      expect(await settledStock('classic-box', before)).toEqual(before);
      await waitFor('refunded', async () => (await q.gateway(id))?.refund != null);
      expect(await q.netCharged(id)).toBe(0);
    } finally {
      await system.start('fulfilment');
    }
  }, 60_000);
});
