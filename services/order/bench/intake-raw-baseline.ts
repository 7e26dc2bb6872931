/**
 * bench:intake's raw baseline: what the service stores per order, one transaction per order, straight from
 * a pg pool.
 *
 * The service's own statements (`storeNewOrders`: the order row and its `placed` history entry, sent with
 * the COMMIT, one round trip), one order per transaction and no group commit, no HTTP: what the service's
 * batching and its HTTP edge are measured against. Reusing the service's function rather than copying its
 * SQL means a schema change cannot leave this baseline behind (it did once: a dropped column broke it).
 */
import { createPool, createTransactionRunner, type Transact } from '@platform/postgres';
import type { OrderDatabase } from '../src/database.js';
import { storeNewOrders } from '../src/orders/order-intake.js';
import { elapsedMsSince, summarise, type Measurement } from './intake-measurement.js';
import { DURATION_S, ITEMS, USER_ID, WARMUP_S } from './intake-settings.js';

const COMMAND = {
  userId: USER_ID,
  items: ITEMS.map((item) => ({ productCode: item.product_code, quantity: item.quantity })),
  requestedTotal: null,
};

async function placeOrderRaw(transact: Transact<OrderDatabase>): Promise<void> {
  const { stored } = await transact(async (trx) => ({
    stored: storeNewOrders(trx, [{ command: COMMAND, idempotencyKey: null, requestHash: null }]),
  }));
  const [outcome] = await stored;
  if (outcome?.kind !== 'created') throw new Error('the raw baseline stored no order');
}

/** `concurrency` loops placing orders back to back for `durationS`; a failed transaction fails the run. */
async function runRawLoops(
  transact: Transact<OrderDatabase>,
  concurrency: number,
  durationS: number,
): Promise<Measurement> {
  const latencies: number[] = [];
  const started = process.hrtime.bigint();
  const deadline = performance.now() + durationS * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const start = process.hrtime.bigint();
      await placeOrderRaw(transact);
      latencies.push(elapsedMsSince(start));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  // Divided by the real elapsed time, which includes the transactions that straddled the deadline.
  return summarise(latencies, elapsedMsSince(started) / 1000, 0);
}

/** The raw baseline at `concurrency`, on the migrated database at `url`: a warm-up, then DURATION_S measured. */
export async function measureRaw(url: string, concurrency: number): Promise<Measurement> {
  // One connection per loop, so no loop ever waits for the pool: the baseline is PostgreSQL, not a queue.
  const pool = createPool({ connectionString: url, max: concurrency, applicationName: 'bench-raw' });
  const transact = createTransactionRunner<OrderDatabase>(pool);
  try {
    if (WARMUP_S > 0) await runRawLoops(transact, concurrency, WARMUP_S);
    return await runRawLoops(transact, concurrency, DURATION_S);
  } finally {
    await pool.end();
  }
}
