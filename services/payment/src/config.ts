import { Type } from 'typebox';
import { ConfigError, parseEnv } from '@platform/config';
import { serviceEnvSchema, toServiceHostConfig, type ServiceHostConfig } from '@platform/service-host';

const Ms = (fallback: number, minimum = 1) => Type.Integer({ minimum, default: fallback });

const PaymentEnv = Type.Object({
  ...serviceEnvSchema('PAYMENT', { port: 8002, database: 'payments' }),
  PAYMENT_GATEWAY_URL: Type.String({ pattern: '^https?://', default: 'http://127.0.0.1:8083' }),
  PAYMENT_CALL_TIMEOUT_MS: Ms(2000),
  PAYMENT_MAX_RETRIES: Type.Integer({ minimum: 0, maximum: 20, default: 3 }),
  PAYMENT_RETRY_BASE_MS: Ms(200),
  PAYMENT_REFUND_RETRY_MAX_MS: Ms(30_000),
  PAYMENT_WORKER_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 1000, default: 16 }),
  PAYMENT_POLL_INTERVAL_MS: Ms(250, 10),
  PAYMENT_LEASE_MS: Ms(30_000, 100),
});

/** How the payment service talks to the gateway and paces its retries. */
export interface PaymentSettings {
  gatewayUrl: string;
  callTimeoutMs: number;
  /** Charge attempts after the first before the payment fails. */
  maxRetries: number;
  retryBaseMs: number;
  /** Ceiling of the delay between attempts; refunds retry forever at most this far apart. */
  retryMaxMs: number;
  concurrency: number;
  pollIntervalMs: number;
  leaseMs: number;
}

/** Everything the payment service reads from its environment, parsed once at start. */
export type PaymentConfig = ServiceHostConfig & { payment: PaymentSettings };

/** Parses the environment; throws a ConfigError naming every bad or missing variable. */
export function loadPaymentConfig(env: Record<string, string | undefined> = process.env): PaymentConfig {
  const e = parseEnv(PaymentEnv, env);
  const payment: PaymentSettings = {
    gatewayUrl: e.PAYMENT_GATEWAY_URL.replace(/\/+$/, ''),
    callTimeoutMs: e.PAYMENT_CALL_TIMEOUT_MS,
    maxRetries: e.PAYMENT_MAX_RETRIES,
    retryBaseMs: e.PAYMENT_RETRY_BASE_MS,
    retryMaxMs: e.PAYMENT_REFUND_RETRY_MAX_MS,
    concurrency: e.PAYMENT_WORKER_CONCURRENCY,
    pollIntervalMs: e.PAYMENT_POLL_INTERVAL_MS,
    leaseMs: e.PAYMENT_LEASE_MS,
  };
  // A lease that can expire while its call is still running would let a second worker call the gateway
  // for the same payment at the same time.
  if (payment.leaseMs <= payment.callTimeoutMs) {
    throw new ConfigError([
      `PAYMENT_LEASE_MS: must be longer than PAYMENT_CALL_TIMEOUT_MS (${payment.callTimeoutMs}) (got ${payment.leaseMs})`,
    ]);
  }
  return { ...toServiceHostConfig('PAYMENT', e), payment };
}
