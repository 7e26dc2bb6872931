import { Type } from 'typebox';
import { parseEnv } from '@platform/config';
import { authEnvSchema, toAuthConfig } from '@platform/auth';
import { brokerEnvSchema, toBrokerConfig, type ServiceHostConfig } from '@platform/service-host';
import { STEP_BOUNDS } from '@platform/contracts';

const PostgresUrl = (fallback: string, description: string) =>
  Type.String({ pattern: '^postgres(ql)?://', default: fallback, description });
const Url = (fallback: string, description: string) =>
  Type.String({ pattern: '^https?://', default: fallback, description });
const Integer = (options: { minimum: number; maximum?: number; default: number }, description: string) =>
  Type.Integer({ ...options, description });

/**
 * Every variable the order service reads, with the broker's and authentication's shared ones. Each carries a
 * `description`: docs/configuration.md and .env.example are generated from them (`npm run config-docs`).
 */
export const OrderEnv = Type.Object({
  // Loopback unless configured (SPEC §4.10): containers and Kubernetes set 0.0.0.0.
  ORDER_HOST: Type.String({
    default: '127.0.0.1',
    description:
      "Interface the order service's API listens on (every service's `<NAME>_HOST` likewise; containers set `0.0.0.0`)",
  }),
  ORDER_PORT: Integer({ minimum: 0, maximum: 65535, default: 8000 }, "Port of the order service's API"),
  ORDER_DATABASE_URL: PostgresUrl(
    'postgres://postgres@127.0.0.1:5432/orders',
    "The order service's database (created if missing)",
  ),
  ORDER_PG_POOL_MAX: Integer(
    { minimum: 4, maximum: 200, default: 12 },
    'PostgreSQL connections of the order service',
  ),
  ORDER_INTAKE_MAX_BATCH: Integer(
    { minimum: 1, maximum: 1000, default: 128 },
    'Group commit of `POST /orders`: most orders stored by one transaction',
  ),
  ORDER_INTAKE_MAX_CONCURRENT_BATCHES: Integer(
    { minimum: 1, maximum: 64, default: 3 },
    'Group-commit transactions in flight at once',
  ),
  ORDER_INTAKE_MAX_QUEUED: Integer(
    { minimum: 1, default: 1_000 },
    'Placements that may wait for a group commit; one more is answered `503` at once',
  ),
  ORDER_INTAKE_TIMEOUT_MS: Integer(
    { minimum: 100, default: 3_000 },
    'How long `POST /orders` waits for its commit before answering `500` (a PostgreSQL that hangs), in ms',
  ),
  ORDER_MAX_IN_FLIGHT: Integer(
    { minimum: 1, default: 1_000 },
    'Orders not yet final (all instances) past which `POST /orders` answers `503` with `Retry-After: 1` ' +
      '(SPEC §4.9); at 250 orders/s about four seconds of work',
  ),
  ORDER_MAX_LOOP_DELAY_MS: Integer(
    { minimum: 0, default: 200 },
    "How far behind the order service's event loop may be, in ms, before `POST /orders` answers `503` with " +
      '`Retry-After: 1` (a probe sent while orders arrive); `0` turns it off',
  ),
  ORDER_CUSTOMER_RATE_MAX: Integer(
    { minimum: 0, default: 50 },
    'Placements, and as many cancellations, one customer (token `sub`, or address when anonymous) may send ' +
      'per ORDER_CUSTOMER_RATE_WINDOW_MS; past it `429` with `Retry-After` (`0`: off)',
  ),
  ORDER_CUSTOMER_RATE_WINDOW_MS: Integer(
    { minimum: 100, default: 1_000 },
    'The window of ORDER_CUSTOMER_RATE_MAX, in ms',
  ),
  ORDER_CUSTOMER_MAX_IN_FLIGHT: Integer(
    { minimum: 0, default: 200 },
    "One customer's orders not yet final past which theirs are answered `429` (`0`: off)",
  ),
  ...brokerEnvSchema,
  ...authEnvSchema,
  SAGA_DEADLINE_MS: Integer(
    { minimum: 1000, default: STEP_BOUNDS.saga.deadlineMs },
    'An order still `PENDING` this long after it was placed is cancelled (`timeout`), in ms',
  ),
  SAGA_SWEEP_INTERVAL_MS: Integer(
    { minimum: 10, default: 1000 },
    'How often the order service looks for orders past SAGA_DEADLINE_MS, in ms',
  ),
  ORDER_PRODUCT_SERVICE_URL: Url(
    'http://127.0.0.1:8081',
    'Enrichment, pricing orders off the request path: the product service',
  ),
  ORDER_USER_SERVICE_URL: Url('http://127.0.0.1:8082', 'Enrichment: the user service'),
  ENRICHMENT_CONCURRENCY: Integer(
    { minimum: 0, maximum: 1000, default: 64 },
    'Orders priced at once by one instance; `0` runs an intake-only instance',
  ),
  ENRICHMENT_DEADLINE_MS: Integer(
    { minimum: 100, default: STEP_BOUNDS.enrichment.deadlineMs },
    "From an order's creation, in ms; then `dependency_unavailable`",
  ),
  ENRICHMENT_CALL_TIMEOUT_MS: Integer(
    { minimum: 10, default: STEP_BOUNDS.enrichment.callTimeoutMs },
    "Each third-party call's own limit, in ms",
  ),
  ENRICHMENT_RETRY_BASE_MS: Integer(
    { minimum: 1, default: STEP_BOUNDS.enrichment.retryBaseMs },
    'Exponential backoff with full jitter between attempts: its base, in ms',
  ),
  ENRICHMENT_RETRY_MAX_MS: Integer(
    { minimum: 1, default: STEP_BOUNDS.enrichment.retryMaxMs },
    'Exponential backoff with full jitter between attempts: its cap, in ms',
  ),
  ENRICHMENT_POLL_INTERVAL_MS: Integer(
    { minimum: 10, default: 1000 },
    'How often a worker looks for orders whose lease ran out, in ms (new ones are handed over by intake)',
  ),
  PRODUCT_CACHE_TTL_MS: Integer(
    { minimum: 0, default: 10_000 },
    'How long a product answer may be reused, in ms',
  ),
  THIRD_PARTY_MAX_CONCURRENT: Integer(
    { minimum: 1, default: 32 },
    'Bulkhead per dependency: calls in flight at once',
  ),
  THIRD_PARTY_MAX_QUEUED: Integer({ minimum: 0, default: 256 }, 'Bulkhead per dependency: calls waiting'),
  THIRD_PARTY_BREAKER_THRESHOLD: Integer(
    { minimum: 1, default: 3 },
    'Consecutive failures of one key (a product code or user id) that open its circuit',
  ),
  THIRD_PARTY_BREAKER_OPEN_MS: Integer(
    { minimum: 10, default: 5_000 },
    'How long an open circuit stays open, in ms',
  ),
});

/**
 * The kernel's queue of connections not yet accepted (listen(2)'s backlog; Linux caps it at
 * net.core.somaxconn, 4096 here). Node's default, 511, fills within a second of a flood of new
 * connections while the process is busy, and the kernel then drops SYNs, which clients retry only after
 * a second: an answer later than SPEC §4.9 allows, whatever the server does next.
 */
export const LISTEN_BACKLOG = 4_096;

/** Everything the order service reads from its environment, parsed once at start. */
export interface OrderConfig extends ServiceHostConfig {
  http: ServiceHostConfig['http'] & { backlog: number };
  intake: {
    maxBatch: number;
    maxConcurrentBatches: number;
    /** Requests that may wait for a group commit; one more is refused with 503. */
    maxWaiting: number;
    /**
     * How long a request waits for its order's commit, in ms, before it is answered `500` (PostgreSQL
     * hangs: a frozen server keeps its sockets open and answers nothing; issue 22).
     */
    timeoutMs: number;
  };
  /**
   * Orders not yet final (all instances) past which `POST /orders` answers 503 with Retry-After: bounded
   * work in flight, so that an accepted order can finish well within its saga deadline (SPEC §4.9).
   */
  maxInFlight: number;
  /**
   * How far behind this process's event loop may be, in ms, before new orders are refused with 503
   * (undefined: no such bound): past it, the process is behind (its host's CPU is saturated), and every
   * order it takes makes every answer later (SPEC §4.9).
   */
  maxLoopDelayMs: number | undefined;
  /**
   * Fair share (SPEC §4.9): each customer (the token's `sub`; for an anonymous caller, the client address)
   * may send `rate.max` orders, and as many cancellations, per `rate.windowMs` (past it: `429` with
   * Retry-After), and have `maxInFlightPerCustomer` orders not yet final (past it: `429`). Undefined: no
   * such limit (a setting of 0).
   */
  customerLimits: {
    rate: { max: number; windowMs: number } | undefined;
    maxInFlightPerCustomer: number | undefined;
  };
  /** An order still PENDING this long after it was placed is cancelled with reason `timeout`. */
  saga: { deadlineMs: number; sweepIntervalMs: number };
  enrichment: {
    /** Orders priced at once by this instance; 0 runs an intake-only instance. */
    concurrency: number;
    productServiceUrl: string;
    userServiceUrl: string;
    deadlineMs: number;
    callTimeoutMs: number;
    retry: { baseMs: number; maxMs: number };
    /** How often to look for orders whose lease ran out (a dead worker's), in ms; new ones are handed over. */
    pollIntervalMs: number;
    productCacheTtlMs: number;
    bulkhead: { maxConcurrent: number; maxQueued: number };
    breaker: { threshold: number; openMs: number };
  };
}

/** Parses the environment; throws a ConfigError naming every bad or missing variable. */
export function loadOrderConfig(env: Record<string, string | undefined> = process.env): OrderConfig {
  const e = parseEnv(OrderEnv, env);
  return {
    http: { host: e.ORDER_HOST, port: e.ORDER_PORT, backlog: LISTEN_BACKLOG },
    databaseUrl: e.ORDER_DATABASE_URL,
    poolMax: e.ORDER_PG_POOL_MAX,
    intake: {
      maxBatch: e.ORDER_INTAKE_MAX_BATCH,
      maxConcurrentBatches: e.ORDER_INTAKE_MAX_CONCURRENT_BATCHES,
      maxWaiting: e.ORDER_INTAKE_MAX_QUEUED,
      timeoutMs: e.ORDER_INTAKE_TIMEOUT_MS,
    },
    maxInFlight: e.ORDER_MAX_IN_FLIGHT,
    maxLoopDelayMs: e.ORDER_MAX_LOOP_DELAY_MS === 0 ? undefined : e.ORDER_MAX_LOOP_DELAY_MS,
    customerLimits: {
      rate:
        e.ORDER_CUSTOMER_RATE_MAX === 0
          ? undefined
          : { max: e.ORDER_CUSTOMER_RATE_MAX, windowMs: e.ORDER_CUSTOMER_RATE_WINDOW_MS },
      maxInFlightPerCustomer:
        e.ORDER_CUSTOMER_MAX_IN_FLIGHT === 0 ? undefined : e.ORDER_CUSTOMER_MAX_IN_FLIGHT,
    },
    ...toBrokerConfig(e),
    auth: toAuthConfig(e),
    saga: { deadlineMs: e.SAGA_DEADLINE_MS, sweepIntervalMs: e.SAGA_SWEEP_INTERVAL_MS },
    enrichment: {
      concurrency: e.ENRICHMENT_CONCURRENCY,
      productServiceUrl: e.ORDER_PRODUCT_SERVICE_URL,
      userServiceUrl: e.ORDER_USER_SERVICE_URL,
      deadlineMs: e.ENRICHMENT_DEADLINE_MS,
      callTimeoutMs: e.ENRICHMENT_CALL_TIMEOUT_MS,
      retry: { baseMs: e.ENRICHMENT_RETRY_BASE_MS, maxMs: e.ENRICHMENT_RETRY_MAX_MS },
      pollIntervalMs: e.ENRICHMENT_POLL_INTERVAL_MS,
      productCacheTtlMs: e.PRODUCT_CACHE_TTL_MS,
      bulkhead: { maxConcurrent: e.THIRD_PARTY_MAX_CONCURRENT, maxQueued: e.THIRD_PARTY_MAX_QUEUED },
      breaker: { threshold: e.THIRD_PARTY_BREAKER_THRESHOLD, openMs: e.THIRD_PARTY_BREAKER_OPEN_MS },
    },
  };
}
