import { Type } from 'typebox';
import { parseEnv } from '@platform/config';
import { authEnvSchema, toAuthConfig } from '@platform/auth';
import { brokerEnvSchema, toBrokerConfig, type ServiceHostConfig } from '@platform/service-host';

const PostgresUrl = (fallback: string) => Type.String({ pattern: '^postgres(ql)?://', default: fallback });

const OrderEnv = Type.Object({
  // Loopback unless configured (SPEC §4.10): containers and Kubernetes set 0.0.0.0.
  ORDER_HOST: Type.String({ default: '127.0.0.1' }),
  ORDER_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8000 }),
  ORDER_DATABASE_URL: PostgresUrl('postgres://postgres@127.0.0.1:5432/orders'),
  ORDER_PG_POOL_MAX: Type.Integer({ minimum: 4, maximum: 200, default: 12 }),
  ORDER_INTAKE_MAX_BATCH: Type.Integer({ minimum: 1, maximum: 1000, default: 128 }),
  ORDER_INTAKE_MAX_CONCURRENT_BATCHES: Type.Integer({ minimum: 1, maximum: 64, default: 3 }),
  ORDER_INTAKE_MAX_QUEUED: Type.Integer({ minimum: 1, default: 1_000 }),
  ORDER_INTAKE_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 3_000 }),
  ORDER_MAX_IN_FLIGHT: Type.Integer({ minimum: 1, default: 1_000 }),
  ORDER_MAX_LOOP_DELAY_MS: Type.Integer({ minimum: 0, default: 200 }),
  ORDER_CUSTOMER_RATE_MAX: Type.Integer({ minimum: 0, default: 50 }),
  ORDER_CUSTOMER_RATE_WINDOW_MS: Type.Integer({ minimum: 100, default: 1_000 }),
  ORDER_CUSTOMER_MAX_IN_FLIGHT: Type.Integer({ minimum: 0, default: 200 }),
  ...brokerEnvSchema,
  ...authEnvSchema,
  SAGA_DEADLINE_MS: Type.Integer({ minimum: 1000, default: 120_000 }),
  SAGA_SWEEP_INTERVAL_MS: Type.Integer({ minimum: 10, default: 1000 }),
  ORDER_PRODUCT_SERVICE_URL: Type.String({ pattern: '^https?://', default: 'http://127.0.0.1:8081' }),
  ORDER_USER_SERVICE_URL: Type.String({ pattern: '^https?://', default: 'http://127.0.0.1:8082' }),
  ENRICHMENT_CONCURRENCY: Type.Integer({ minimum: 0, maximum: 1000, default: 64 }),
  ENRICHMENT_DEADLINE_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  ENRICHMENT_CALL_TIMEOUT_MS: Type.Integer({ minimum: 10, default: 2_000 }),
  ENRICHMENT_RETRY_BASE_MS: Type.Integer({ minimum: 1, default: 200 }),
  ENRICHMENT_RETRY_MAX_MS: Type.Integer({ minimum: 1, default: 5_000 }),
  ENRICHMENT_POLL_INTERVAL_MS: Type.Integer({ minimum: 10, default: 1000 }),
  PRODUCT_CACHE_TTL_MS: Type.Integer({ minimum: 0, default: 10_000 }),
  THIRD_PARTY_MAX_CONCURRENT: Type.Integer({ minimum: 1, default: 32 }),
  THIRD_PARTY_MAX_QUEUED: Type.Integer({ minimum: 0, default: 256 }),
  THIRD_PARTY_BREAKER_THRESHOLD: Type.Integer({ minimum: 1, default: 3 }),
  THIRD_PARTY_BREAKER_OPEN_MS: Type.Integer({ minimum: 10, default: 5_000 }),
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
