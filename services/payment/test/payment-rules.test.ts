import { describe, expect, it } from 'vitest';
import { ConfigError } from '@platform/config';
import { loadPaymentConfig } from '../src/config.js';
import { retryDelayMs } from '@platform/service-host';

describe('retry delays', () => {
  const retry = { baseMs: 200, maxMs: 30_000 };

  it('grow exponentially from the first attempt up to the cap, jittered between half and all of it', () => {
    expect([1, 2, 3, 4, 8, 9, 20].map((attempt) => retryDelayMs(attempt, retry, () => 0.999_999))).toEqual([
      200, 400, 800, 1_600, 25_600, 30_000, 30_000,
    ]);
    expect([1, 2, 9].map((attempt) => retryDelayMs(attempt, retry, () => 0))).toEqual([100, 200, 15_000]);
  });
});

describe('payment configuration', () => {
  it('has the documented defaults', () => {
    const config = loadPaymentConfig({});
    expect(config.http).toEqual({ host: '0.0.0.0', port: 8002 });
    expect(config.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/payments');
    expect(config.payment).toEqual({
      gatewayUrl: 'http://127.0.0.1:8083',
      callTimeoutMs: 2_000,
      maxRetries: 3,
      retry: { baseMs: 200, maxMs: 30_000 },
      concurrency: 64,
      pollIntervalMs: 1000,
      leaseMs: 30_000,
    });
  });

  it('caps every retry with PAYMENT_RETRY_MAX_MS', () => {
    expect(loadPaymentConfig({ PAYMENT_RETRY_MAX_MS: '400' }).payment.retry).toEqual({
      baseMs: 200,
      maxMs: 400,
    });
  });

  it('refuses bad values, naming them, and a lease no longer than a call', () => {
    expect(() => loadPaymentConfig({ PAYMENT_GATEWAY_URL: 'gateway', PAYMENT_RETRY_BASE_MS: 'x' })).toThrow(
      /PAYMENT_GATEWAY_URL[\s\S]*PAYMENT_RETRY_BASE_MS|PAYMENT_RETRY_BASE_MS[\s\S]*PAYMENT_GATEWAY_URL/,
    );
    expect(() => loadPaymentConfig({ PAYMENT_LEASE_MS: '2000', PAYMENT_CALL_TIMEOUT_MS: '2000' })).toThrow(
      ConfigError,
    );
  });
});
