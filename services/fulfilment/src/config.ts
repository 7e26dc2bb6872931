import { Type } from 'typebox';
import { ConfigError, parseEnv } from '@platform/config';
import { serviceEnvSchema, toServiceHostConfig, type ServiceHostConfig } from '@platform/service-host';
import { STEP_BOUNDS } from '@platform/contracts';

/**
 * Every variable the fulfilment service reads, each with a `description`: docs/configuration.md and
 * .env.example are generated from them (`npm run config-docs`).
 */
export const FulfilmentEnv = Type.Object({
  ...serviceEnvSchema('FULFILMENT', { port: 8003, database: 'fulfilment' }),
  FULFILMENT_PARTNER_URL: Type.String({
    pattern: '^https?://',
    default: 'http://127.0.0.1:8084',
    description: 'The fulfilment partner, where paid orders are placed',
  }),
  // The partner answers in 500 ms when it works: 3 s leaves room for a slow moment, not for a hang.
  FULFILMENT_CALL_TIMEOUT_MS: Type.Integer({
    minimum: 10,
    default: STEP_BOUNDS.placement.callTimeoutMs,
    description: "Each placement call's limit, in ms (the partner takes 500 ms)",
  }),
  FULFILMENT_PLACEMENT_DEADLINE_MS: Type.Integer({
    minimum: 100,
    default: STEP_BOUNDS.placement.deadlineMs,
    description: 'From `payment.processed`, in ms; then `fulfilment.failed`',
  }),
  FULFILMENT_RETRY_BASE_MS: Type.Integer({
    minimum: 1,
    default: STEP_BOUNDS.placement.retryBaseMs,
    description: 'Capped exponential backoff with jitter between placement attempts: its base, in ms',
  }),
  FULFILMENT_RETRY_MAX_MS: Type.Integer({
    minimum: 1,
    default: STEP_BOUNDS.placement.retryMaxMs,
    description: 'Capped exponential backoff with jitter between placement attempts: its cap, in ms',
  }),
  FULFILMENT_WORKER_CONCURRENCY: Type.Integer({
    minimum: 1,
    maximum: 1000,
    default: 256,
    description:
      "Placements in flight at once (the seed's partner takes 500 ms a placement: 16 at once would cap it " +
      'at 32 a second)',
  }),
  FULFILMENT_POLL_INTERVAL_MS: Type.Integer({
    minimum: 10,
    default: 1000,
    description:
      'How often to look for due placements nobody handed over, in ms (up to ten times longer while there ' +
      'are none)',
  }),
  FULFILMENT_LEASE_MS: Type.Integer({
    minimum: 100,
    default: 30_000,
    description:
      "How long a worker's lease on a placement lasts, in ms (must exceed FULFILMENT_CALL_TIMEOUT_MS)",
  }),
});

/** How placements at the fulfilment partner are made and retried. */
export interface PlacementSettings {
  partnerUrl: string;
  callTimeoutMs: number;
  /** From when payment.processed was handled: past it, a placement still failing is given up. */
  deadlineMs: number;
  /** Capped exponential backoff between attempts, with jitter. */
  retry: { baseMs: number; maxMs: number };
  /** Partner calls in flight at once. */
  concurrency: number;
  /** How often to look for placements due that were not handed over (retries, a dead worker's), in ms. */
  pollIntervalMs: number;
  /** How long a worker holds a placement it took; longer than a call, so only a dead worker's expire. */
  leaseMs: number;
}

/** Everything the fulfilment service reads from its environment, parsed once at start. */
export interface FulfilmentConfig extends ServiceHostConfig {
  placement: PlacementSettings;
}

/** Parses the environment; throws a ConfigError naming every bad or missing variable. */
export function loadFulfilmentConfig(
  env: Record<string, string | undefined> = process.env,
): FulfilmentConfig {
  const e = parseEnv(FulfilmentEnv, env);
  // A lease shorter than a call would let a second worker place the same order while the first waits.
  if (e.FULFILMENT_LEASE_MS <= e.FULFILMENT_CALL_TIMEOUT_MS) {
    throw new ConfigError([
      `FULFILMENT_LEASE_MS: must be longer than FULFILMENT_CALL_TIMEOUT_MS (${e.FULFILMENT_CALL_TIMEOUT_MS}) (got ${e.FULFILMENT_LEASE_MS})`,
    ]);
  }
  return {
    ...toServiceHostConfig('FULFILMENT', e),
    placement: {
      partnerUrl: e.FULFILMENT_PARTNER_URL,
      callTimeoutMs: e.FULFILMENT_CALL_TIMEOUT_MS,
      deadlineMs: e.FULFILMENT_PLACEMENT_DEADLINE_MS,
      retry: { baseMs: e.FULFILMENT_RETRY_BASE_MS, maxMs: e.FULFILMENT_RETRY_MAX_MS },
      concurrency: e.FULFILMENT_WORKER_CONCURRENCY,
      pollIntervalMs: e.FULFILMENT_POLL_INTERVAL_MS,
      leaseMs: e.FULFILMENT_LEASE_MS,
    },
  };
}
