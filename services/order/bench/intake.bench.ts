/**
 * Order intake benchmark: `POST /orders` through the real service against the same inserts sent straight
 * from a `pg` pool, at several concurrencies, in one run.
 *
 *   npm run bench:intake
 *
 * Environment (all optional):
 *   BENCH_DURATION_S      measured seconds per side and concurrency (default 10)
 *   BENCH_WARMUP_S        unmeasured warm-up seconds before each measured run (default 2)
 *   BENCH_CONNECTIONS     comma-separated concurrencies (default 1,16,64)
 *   BENCH_POSTGRES_URL    server to create the bench databases on (default postgres://postgres@127.0.0.1:5432)
 *   BENCH_RABBITMQ_URL    broker for the service's relay (default amqp://guest:guest@127.0.0.1:5672)
 *   ORDER_PG_POOL_MAX, ORDER_INTAKE_MAX_BATCH, ORDER_INTAKE_MAX_CONCURRENT_BATCHES, OUTBOX_BATCH_SIZE
 *                         passed through to the service, to try other tunings
 *
 * It creates databases and an exchange of its own (never the `orders` ones) and removes them at the end,
 * also when it fails. It always exits 0 once it has measured: missing a target is a result, not an error.
 *
 * Its parts, next to it: the settings (intake-settings.ts), the bench's own databases and exchange
 * (intake-scratch-resources.ts), the raw baseline (intake-raw-baseline.ts), the service under autocannon
 * (intake-api-load.ts), the figures (intake-measurement.ts) and the report (intake-report.ts).
 */
import { randomBytes } from 'node:crypto';
import { checkPlaceOrder, drainOutbox, measureApi, startService, waitForBroker } from './intake-api-load.js';
import { measureRaw } from './intake-raw-baseline.js';
import { printNotes, printSettings, printTable, printTargets, type Row } from './intake-report.js';
import { Cleanup, createDatabase, deleteExchange, migrateRawDatabase } from './intake-scratch-resources.js';
import { CONCURRENCIES } from './intake-settings.js';

async function main(): Promise<void> {
  const suffix = randomBytes(4).toString('hex');
  const exchange = `bench.orders.${suffix}`;
  const cleanup = new Cleanup();
  try {
    const apiUrl = await createDatabase(`bench_order_${suffix}`, cleanup);
    const rawUrl = await createDatabase(`bench_raw_${suffix}`, cleanup);
    cleanup.add(`delete exchange ${exchange}`, () => deleteExchange(exchange));
    await migrateRawDatabase(rawUrl);

    const running = await startService(apiUrl, exchange);
    cleanup.add('stop the order service', () => running.service.stop());
    await waitForBroker(running.service);
    printSettings(running.config);
    await checkPlaceOrder(running.baseUrl);

    const rows: Row[] = [];
    for (const concurrency of CONCURRENCIES) {
      console.log(`concurrency ${concurrency}: raw baseline...`);
      const raw = await measureRaw(rawUrl, concurrency);
      console.log(`concurrency ${concurrency}: API...`);
      const api = await measureApi(running, concurrency);
      await drainOutbox(running.service.pool);
      rows.push({ concurrency, api: api.result, apiLoad: api.load, raw });
    }

    console.log('');
    printTable(rows);
    console.log('');
    printNotes(rows);
    console.log('');
    printTargets(rows);
  } finally {
    await cleanup.runAll();
  }
}

try {
  await main();
} catch (error) {
  console.error('benchmark failed:', error);
  process.exitCode = 1;
}
