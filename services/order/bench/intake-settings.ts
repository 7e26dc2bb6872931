/**
 * bench:intake's settings, read once from the environment (see intake.bench.ts for each variable), its
 * targets, and the order every request and every raw transaction places.
 */

/** The server the bench creates its databases on. */
export const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
/** The broker of the service's relay. */
export const RABBITMQ_URL = process.env.BENCH_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
/** Measured seconds per side and concurrency. */
export const DURATION_S = positiveNumber('BENCH_DURATION_S', 10);
/** Unmeasured warm-up seconds before each measured run; 0 skips it. */
export const WARMUP_S = positiveNumber('BENCH_WARMUP_S', 2, { allowZero: true });
/** The concurrencies measured, in order. */
export const CONCURRENCIES = (process.env.BENCH_CONNECTIONS ?? '1,16,64').split(',').map((value) => {
  const n = Number(value.trim());
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_CONNECTIONS: not a concurrency: ${value}`);
  return n;
});
/** The service knobs worth experimenting with; anything not set keeps the service's own default. */
export const SERVICE_OVERRIDES = [
  'ORDER_PG_POOL_MAX',
  'ORDER_INTAKE_MAX_BATCH',
  'ORDER_INTAKE_MAX_CONCURRENT_BATCHES',
  'OUTBOX_BATCH_SIZE',
] as const;

/** The concurrency the targets are set at. */
export const TARGET_CONCURRENCY = 64;
/** The API's orders per second over the raw baseline's, at least. */
export const TARGET_RATIO = 1.0;
/** The API's p99 latency, below. */
export const TARGET_P99_MS = 20;
/** How long to wait for the relay to publish a run's events before the next run starts. */
export const DRAIN_TIMEOUT_MS = 120_000;

/** The customer of every order placed. */
export const USER_ID = '7c11e1ce2741';
/** The items of every order placed, as the API takes them. */
export const ITEMS = [{ product_code: 'classic-box', quantity: 2 }];
/** The body of every `POST /orders`. */
export const ORDER_BODY = JSON.stringify({ user_id: USER_ID, items: ITEMS });

function positiveNumber(name: string, fallback: number, options: { allowZero?: boolean } = {}): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (value === 0 && options.allowZero !== true)) {
    throw new Error(`${name}: not a valid number of seconds: ${raw}`);
  }
  return value;
}
