import { Type } from 'typebox';
import { ConfigError, parseEnv } from '@platform/config';
import { serviceEnvSchema, toServiceHostConfig, type ServiceHostConfig } from '@platform/service-host';
import { STEP_BOUNDS } from '@platform/contracts';

/**
 * Every variable the payment service reads, each with a `description`: docs/configuration.md and
 * .env.example are generated from them (`npm run config-docs`).
 */
export const PaymentEnv = Type.Object({
  ...serviceEnvSchema('PAYMENT', { port: 8002, database: 'payments' }),
  PAYMENT_GATEWAY_URL: Type.String({
    pattern: '^https?://',
    default: 'http://127.0.0.1:8083',
    description: 'The payment gateway, which charges and refunds',
  }),
  PAYMENT_CALL_TIMEOUT_MS: Type.Integer({
    minimum: 1,
    default: STEP_BOUNDS.payment.callTimeoutMs,
    description: "Each gateway call's limit, in ms",
  }),
  PAYMENT_MAX_RETRIES: Type.Integer({
    minimum: 0,
    maximum: 20,
    default: STEP_BOUNDS.payment.chargeRetries,
    description:
      'A charge is tried 1 + this many times, with exponential backoff and jitter; refunds are retried ' +
      'until they succeed',
  }),
  PAYMENT_RETRY_BASE_MS: Type.Integer({
    minimum: 1,
    default: STEP_BOUNDS.payment.retryBaseMs,
    description: 'The backoff between gateway calls of one payment: its base, in ms',
  }),
  PAYMENT_RETRY_MAX_MS: Type.Integer({
    minimum: 1,
    default: STEP_BOUNDS.payment.retryMaxMs,
    description: 'Longest wait between two gateway calls of one payment, in ms',
  }),
  PAYMENT_WORKER_CONCURRENCY: Type.Integer({
    minimum: 1,
    maximum: 1000,
    default: 64,
    description: 'Charges and refunds in flight at once',
  }),
  PAYMENT_POLL_INTERVAL_MS: Type.Integer({
    minimum: 10,
    default: 1000,
    description:
      'How often to look for due charges and refunds nobody handed over, in ms (up to ten times longer ' +
      'while there are none)',
  }),
  PAYMENT_LEASE_MS: Type.Integer({
    minimum: 100,
    default: 30_000,
    description: "How long a worker's lease on a payment lasts, in ms (must exceed PAYMENT_CALL_TIMEOUT_MS)",
  }),
});

/** How charges and refunds at the payment gateway are made and retried. */
export interface PaymentSettings {
  gatewayUrl: string;
  callTimeoutMs: number;
  /** Charge attempts after the first before the payment fails; refunds are retried until they succeed. */
  maxRetries: number;
  /** Capped exponential backoff between attempts, with jitter. */
  retry: { baseMs: number; maxMs: number };
  /** Gateway steps in flight at once. */
  concurrency: number;
  /** How often to look for payments due that were not handed over (retries, a dead worker's), in ms. */
  pollIntervalMs: number;
  /** How long a worker holds a payment it took; longer than a call, so only a dead worker's expire. */
  leaseMs: number;
}

/** Everything the payment service reads from its environment, parsed once at start. */
export interface PaymentConfig extends ServiceHostConfig {
  payment: PaymentSettings;
}

/** Parses the environment; throws a ConfigError naming every bad or missing variable. */
export function loadPaymentConfig(env: Record<string, string | undefined> = process.env): PaymentConfig {
  const e = parseEnv(PaymentEnv, env);
  // A lease that can expire while its call is still running would let a second worker call the gateway
  // for the same payment at the same time.
  if (e.PAYMENT_LEASE_MS <= e.PAYMENT_CALL_TIMEOUT_MS) {
    throw new ConfigError([
      `PAYMENT_LEASE_MS: must be longer than PAYMENT_CALL_TIMEOUT_MS (${e.PAYMENT_CALL_TIMEOUT_MS}) (got ${e.PAYMENT_LEASE_MS})`,
    ]);
  }
  return {
    ...toServiceHostConfig('PAYMENT', e),
    payment: {
      gatewayUrl: e.PAYMENT_GATEWAY_URL.replace(/\/+$/, ''),
      callTimeoutMs: e.PAYMENT_CALL_TIMEOUT_MS,
      maxRetries: e.PAYMENT_MAX_RETRIES,
      retry: { baseMs: e.PAYMENT_RETRY_BASE_MS, maxMs: e.PAYMENT_RETRY_MAX_MS },
      concurrency: e.PAYMENT_WORKER_CONCURRENCY,
      pollIntervalMs: e.PAYMENT_POLL_INTERVAL_MS,
      leaseMs: e.PAYMENT_LEASE_MS,
    },
  };
}
