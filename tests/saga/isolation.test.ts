import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ask, startTestSystem, type TestSystem } from './system.harness.js';

// SPEC §4.5: a fault tied to one product never holds up orders that don't involve it. Found by the chaos
// run (issue 10): the enrichment worker's slots were all held by orders of a product that never answers,
// each sleeping out its backoff until its deadline, and every other order queued behind them.
let system: TestSystem;
let q: ReturnType<typeof ask>;

beforeAll(async () => {
  // Few slots and a deadline long enough that, were the slow orders to keep their slots, the healthy
  // order would wait for them to be cancelled.
  system = await startTestSystem('isolation', {
    ENRICHMENT_CONCURRENCY: '2',
    ENRICHMENT_DEADLINE_MS: '8000',
  });
  q = ask(system);
}, 60_000);
afterAll(async () => system.remove(), 60_000);

describe('isolation from a third party that never answers for one product', () => {
  it('completes a classic-box order while earlier family-box orders are still waiting for the product service', async () => {
    // family-box takes 60 s at the product service (seed 000): these wait until their 8 s deadline.
    const slow = await Promise.all(
      Array.from({ length: 6 }, () => q.placeOrder({ user_id: 'customer-123', product_code: 'family-box' })),
    );
    const healthy = await q.placeOrder({ user_id: 'customer-123', product_code: 'classic-box' });

    expect(await q.finalOrder(healthy, 15_000)).toMatchObject({ status: 'COMPLETED' });
    const slowNow = await Promise.all(slow.map((id) => q.order(id)));
    expect(slowNow.map((order) => order.status)).toEqual(slow.map(() => 'PENDING'));

    for (const id of slow) {
      expect(await q.finalOrder(id, 20_000)).toMatchObject({
        status: 'CANCELLED',
        reason: 'dependency_unavailable',
      });
    }
  }, 60_000);
});
