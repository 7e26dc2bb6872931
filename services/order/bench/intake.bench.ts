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
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import pg from 'pg';
import { Connection } from 'rabbitmq-client';
import { SUBSCRIPTIONS } from '@platform/contracts';
import { deleteTopology } from '@platform/messaging';
import { createLogger } from '@platform/observability';
import { outboxMigrations } from '@platform/outbox';
import {
  createPool,
  createTransactionRunner,
  migrate,
  readMigrations,
  type Pool,
  type Transact,
} from '@platform/postgres';
import { loadOrderConfig, type OrderConfig } from '../src/config.js';
import { createOrderService, type OrderService } from '../src/order-service.js';
import type { OrderDatabase } from '../src/database.js';
import { storeNewOrders } from '../src/orders/order-intake.js';

// ---------------------------------------------------------------------------------------------------------
// Settings

const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
const RABBITMQ_URL = process.env.BENCH_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const DURATION_S = positiveNumber('BENCH_DURATION_S', 10);
const WARMUP_S = positiveNumber('BENCH_WARMUP_S', 2, { allowZero: true });
const CONCURRENCIES = (process.env.BENCH_CONNECTIONS ?? '1,16,64').split(',').map((value) => {
  const n = Number(value.trim());
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_CONNECTIONS: not a concurrency: ${value}`);
  return n;
});
/** The service knobs worth experimenting with; anything not set keeps the service's own default. */
const SERVICE_OVERRIDES = [
  'ORDER_PG_POOL_MAX',
  'ORDER_INTAKE_MAX_BATCH',
  'ORDER_INTAKE_MAX_CONCURRENT_BATCHES',
  'OUTBOX_BATCH_SIZE',
] as const;

const TARGET_CONCURRENCY = 64;
const TARGET_RATIO = 1.0;
const TARGET_P99_MS = 20;
/** How long to wait for the relay to publish a run's events before the next run starts. */
const DRAIN_TIMEOUT_MS = 120_000;

const USER_ID = '7c11e1ce2741';
const ITEMS = [{ product_code: 'classic-box', quantity: 2 }];
const ORDER_BODY = JSON.stringify({ user_id: USER_ID, items: ITEMS });

function positiveNumber(name: string, fallback: number, options: { allowZero?: boolean } = {}): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (value === 0 && options.allowZero !== true)) {
    throw new Error(`${name}: not a valid number of seconds: ${raw}`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// Measurements

/** One side's figures at one concurrency; latencies in milliseconds. */
interface Measurement {
  perSecond: number;
  p50: number;
  p99: number;
  /** Failed requests (non-2xx, connection errors, timeouts) or failed transactions. */
  failures: number;
}

/** How busy this process was during a run: tells whether Node or something else was the limit. */
interface ProcessLoad {
  /** Share of the time the main event loop was busy, 0..1 (it runs the service and autocannon alike). */
  eventLoop: number;
  /** CPU time of the whole process over wall time, in cores. */
  cores: number;
}

/** Runs `work` and reports how busy this process was meanwhile. */
async function withProcessLoad<T>(work: () => Promise<T>): Promise<{ result: T; load: ProcessLoad }> {
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const result = await work();
  const wallUs = elapsedMsSince(started) * 1000;
  const used = process.cpuUsage(cpu);
  return {
    result,
    load: {
      eventLoop: performance.eventLoopUtilization(elu).utilization,
      cores: (used.user + used.system) / wallUs,
    },
  };
}

/** The value below which a fraction `q` of the samples lie (nearest rank), on a sorted array. */
function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

function summarise(latenciesMs: number[], elapsedS: number, failures: number): Measurement {
  const sorted = Float64Array.from(latenciesMs).sort();
  return {
    perSecond: latenciesMs.length / elapsedS,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    failures,
  };
}

const elapsedMsSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

// ---------------------------------------------------------------------------------------------------------
// Infrastructure of the bench's own

/** Cleanup steps, run newest first; each runs even when an earlier one failed. */
class Cleanup {
  private readonly steps: { name: string; run: () => Promise<unknown> }[] = [];

  add(name: string, run: () => Promise<unknown>): void {
    this.steps.push({ name, run });
  }

  async runAll(): Promise<void> {
    for (const step of [...this.steps].reverse()) {
      try {
        await step.run();
      } catch (error) {
        console.error(`cleanup: ${step.name} failed:`, error);
      }
    }
  }
}

function databaseUrl(name: string): string {
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function onServer(run: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl('postgres'), connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await run(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database and registers its removal; returns its URL. */
async function createDatabase(name: string, cleanup: Cleanup): Promise<string> {
  await onServer((client) => client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  // FORCE: connections a failed run left open must not keep the database alive.
  cleanup.add(`drop database ${name}`, () =>
    onServer((client) => client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`)),
  );
  return databaseUrl(name);
}

/** The service declares its exchange and every service's queues on connecting; removed at the end. */
async function deleteExchange(exchange: string): Promise<void> {
  const connection = new Connection({
    url: RABBITMQ_URL,
    retryLow: 100,
    connectionTimeout: 5_000,
    acquireTimeout: 5_000,
  });
  // Without a listener, a connection error (broker down) would be thrown as an unhandled 'error' event.
  connection.on('error', () => undefined);
  try {
    await deleteTopology(connection, exchange, SUBSCRIPTIONS, loadOrderConfig({}).consumer.retryDelaysMs);
    await connection.exchangeDelete({ exchange });
  } finally {
    await connection.close();
  }
}

async function migrateRawDatabase(url: string): Promise<void> {
  const pool = createPool({ connectionString: url, max: 1, applicationName: 'bench-migrate' });
  try {
    const migrationsDir = fileURLToPath(new URL('../../migrations', import.meta.url));
    await migrate(pool, [...(await outboxMigrations()), ...(await readMigrations(migrationsDir, 'order'))]);
  } finally {
    await pool.end();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Raw baseline: what the service stores per order, one transaction per order, straight from a pg pool

// The service's own statements (`storeNewOrders`: the order row and its `placed` history entry, sent with
// the COMMIT, one round trip), one order per transaction and no group commit, no HTTP: what the service's
// batching and its HTTP edge are measured against. Reusing the service's function rather than copying its
// SQL means a schema change cannot leave this baseline behind (it did once: a dropped column broke it).
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

async function measureRaw(url: string, concurrency: number): Promise<Measurement> {
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

// ---------------------------------------------------------------------------------------------------------
// API: the real service, in process, driven by autocannon

interface RunningService {
  service: OrderService;
  config: OrderConfig;
  baseUrl: string;
}

async function startService(databaseUrlForService: string, exchange: string): Promise<RunningService> {
  const overrides = Object.fromEntries(
    SERVICE_OVERRIDES.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]]])),
  ) as Record<string, string>;
  const config = loadOrderConfig({
    ORDER_HOST: '127.0.0.1',
    ORDER_PORT: '0',
    ORDER_DATABASE_URL: databaseUrlForService,
    RABBITMQ_URL,
    RABBITMQ_EXCHANGE: exchange,
    LOG_LEVEL: 'warn',
    // Intake is what is measured: an intake-only instance, as one would scale the API apart from pricing.
    ENRICHMENT_CONCURRENCY: '0',
    // Nothing here ever finishes an order: the bound on orders in flight (SPEC §4.9) would refuse all but
    // the first thousand, so it is lifted; what the bench measures is how fast intake stores them.
    ORDER_MAX_IN_FLIGHT: '1000000000',
    ORDER_INTAKE_MAX_QUEUED: '1000000',
    // One customer from one address stands for all of them: no per-customer limits (SPEC §4.9).
    ORDER_CUSTOMER_RATE_MAX: '0',
    ORDER_CUSTOMER_MAX_IN_FLIGHT: '0',
    ...overrides,
  });
  const logger = createLogger({ service: 'order', level: config.logLevel });
  const service = await createOrderService(config, logger);
  const baseUrl = await service.app.listen({ host: config.http.host, port: config.http.port });
  return { service, config, baseUrl };
}

/** Without a broker the relay never drains the outbox: not the service being measured, so stop early. */
async function waitForBroker(service: OrderService, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!service.broker.isConnected()) {
    if (Date.now() > deadline) throw new Error(`RabbitMQ at ${RABBITMQ_URL} not reachable`);
    await sleep(100);
  }
}

/** One request by hand first: a service that answers 4xx/5xx would otherwise only show up as a count. */
async function checkPlaceOrder(baseUrl: string): Promise<void> {
  const response = await fetch(`${baseUrl}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: ORDER_BODY,
  });
  if (response.status !== 201) {
    throw new Error(`POST /orders answered ${response.status}: ${await response.text()}`);
  }
}

/** Runs autocannon; latencies come from its per-response event (sub-millisecond, unlike its histogram). */
function runAutocannon(baseUrl: string, connections: number, durationS: number): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const instance = autocannon(
      {
        url: `${baseUrl}/orders`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: ORDER_BODY,
        connections,
        pipelining: 1,
        duration: durationS,
      },
      (error: unknown, result) => {
        if (error !== null && error !== undefined) {
          reject(error instanceof Error ? error : new Error('autocannon failed', { cause: error }));
          return;
        }
        resolve(summarise(latencies, result.duration, result.non2xx + result.errors + result.timeouts));
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
}

async function measureApi(
  running: RunningService,
  concurrency: number,
): Promise<{ result: Measurement; load: ProcessLoad }> {
  if (WARMUP_S > 0) {
    await runAutocannon(running.baseUrl, concurrency, WARMUP_S);
    await drainOutbox(running.service.pool);
  }
  return withProcessLoad(() => runAutocannon(running.baseUrl, concurrency, DURATION_S));
}

/** Waits until the relay has published everything, so one run's backlog does not slow down the next. */
async function drainOutbox(pool: Pool): Promise<void> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  for (;;) {
    const result = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox');
    const backlog = result.rows[0]?.n ?? 0;
    if (backlog === 0) return;
    if (Date.now() > deadline) {
      console.warn(
        `  outbox still holds ${backlog} unpublished rows after ${DRAIN_TIMEOUT_MS / 1000} s; going on`,
      );
      return;
    }
    await sleep(200);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Report

interface Row {
  concurrency: number;
  api: Measurement;
  apiLoad: ProcessLoad;
  raw: Measurement;
}

const fixed = (value: number, digits: number): string =>
  Number.isFinite(value) ? value.toFixed(digits) : 'n/a';

function printSettings(config: OrderConfig): void {
  console.log('Order intake benchmark');
  console.log(`  cores (os.availableParallelism): ${availableParallelism()}`);
  // Other work on the machine skews every figure; the load average at start tells whether there was any.
  console.log(`  load average at start (1 min): ${fixed(loadavg()[0] ?? Number.NaN, 2)}`);
  console.log(`  node ${process.version}, duration ${DURATION_S} s per run, warm-up ${WARMUP_S} s`);
  console.log(
    `  service: ORDER_PG_POOL_MAX=${config.poolMax}, ORDER_INTAKE_MAX_BATCH=${config.intake.maxBatch}, ` +
      `ORDER_INTAKE_MAX_CONCURRENT_BATCHES=${config.intake.maxConcurrentBatches}, ` +
      `OUTBOX_BATCH_SIZE=${config.outbox.batchSize}, relay on`,
  );
  console.log(
    '  raw baseline: pg pool max = concurrency, one transaction per order (the order row and its history entry)',
  );
  console.log('');
}

function printTable(rows: readonly Row[]): void {
  const header = [
    'concurrency',
    'API req/s',
    'API p50 ms',
    'API p99 ms',
    'raw tx/s',
    'raw p50 ms',
    'raw p99 ms',
    'ratio API/raw',
  ];
  const lines = rows.map((row) => [
    String(row.concurrency),
    fixed(row.api.perSecond, 0),
    fixed(row.api.p50, 2),
    fixed(row.api.p99, 2),
    fixed(row.raw.perSecond, 0),
    fixed(row.raw.p50, 2),
    fixed(row.raw.p99, 2),
    fixed(row.api.perSecond / row.raw.perSecond, 2),
  ]);
  const widths = header.map((title, i) =>
    Math.max(title.length, ...lines.map((line) => line[i]?.length ?? 0)),
  );
  const format = (cells: readonly string[]): string =>
    `| ${cells.map((cell, i) => cell.padStart(widths[i] ?? 0)).join(' | ')} |`;
  console.log(format(header));
  console.log(`|${widths.map((width) => '-'.repeat(width + 1) + ':').join('|')}|`);
  for (const line of lines) console.log(format(line));
}

function printNotes(rows: readonly Row[]): void {
  console.log('Load of this process during the API runs (service, relay and autocannon all run in it):');
  for (const row of rows) {
    console.log(
      `  ${row.concurrency} connections: event loop ${fixed(row.apiLoad.eventLoop * 100, 0)} % busy, ` +
        `${fixed(row.apiLoad.cores, 2)} cores of CPU`,
    );
    if (row.api.failures > 0) {
      console.log(`  ! ${row.api.failures} requests failed (non-2xx, errors or timeouts)`);
    }
  }
}

function printTargets(rows: readonly Row[]): void {
  const row = rows.find((candidate) => candidate.concurrency === TARGET_CONCURRENCY);
  if (!row) {
    console.log(`Targets are set at ${TARGET_CONCURRENCY} connections, which this run did not measure.`);
    return;
  }
  const ratio = row.api.perSecond / row.raw.perSecond;
  const verdict = (ok: boolean): string => (ok ? 'PASS' : 'MISS');
  console.log(
    `${verdict(ratio >= TARGET_RATIO)}  ratio API/raw at ${TARGET_CONCURRENCY} connections: ` +
      `${fixed(ratio, 2)} (target >= ${TARGET_RATIO.toFixed(1)})`,
  );
  console.log(
    `${verdict(row.api.p99 < TARGET_P99_MS)}  API p99 at ${TARGET_CONCURRENCY} connections: ` +
      `${fixed(row.api.p99, 2)} ms (target < ${TARGET_P99_MS} ms)`,
  );
  if (row.api.failures > 0)
    console.log(`MISS  API answered ${row.api.failures} requests with non-2xx or errors`);
}

// ---------------------------------------------------------------------------------------------------------
// Main

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
