import { describe, expect, it } from 'vitest';
import { ConfigError } from '@platform/config';
import { loadFulfilmentConfig } from '../src/config.js';
import { retryDelayMs } from '@platform/service-host';

describe('retry delays', () => {
  const retry = { baseMs: 250, maxMs: 5_000 };

  it('grow exponentially from the first attempt up to the cap, jittered between half and all of it', () => {
    expect([1, 2, 3, 4, 5, 6, 11].map((attempt) => retryDelayMs(attempt, retry, () => 0.999_999))).toEqual([
      250, 500, 1_000, 2_000, 4_000, 5_000, 5_000,
    ]);
    expect([1, 2, 6].map((attempt) => retryDelayMs(attempt, retry, () => 0))).toEqual([125, 250, 2_500]);
  });
});

describe('fulfilment configuration', () => {
  it('has the documented defaults', () => {
    const config = loadFulfilmentConfig({});
    expect(config.http).toEqual({ host: '0.0.0.0', port: 8003 });
    expect(config.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/fulfilment');
    expect(config.placement).toEqual({
      partnerUrl: 'http://127.0.0.1:8084',
      callTimeoutMs: 3_000,
      deadlineMs: 60_000,
      retry: { baseMs: 250, maxMs: 5_000 },
      concurrency: 256,
      pollIntervalMs: 1000,
      leaseMs: 30_000,
    });
  });

  it('refuses bad values, naming them, and a lease no longer than a call', () => {
    expect(() =>
      loadFulfilmentConfig({ FULFILMENT_PARTNER_URL: 'partner', FULFILMENT_RETRY_BASE_MS: 'x' }),
    ).toThrow(
      /FULFILMENT_PARTNER_URL[\s\S]*FULFILMENT_RETRY_BASE_MS|FULFILMENT_RETRY_BASE_MS[\s\S]*FULFILMENT_PARTNER_URL/,
    );
    expect(() =>
      loadFulfilmentConfig({ FULFILMENT_LEASE_MS: '2000', FULFILMENT_CALL_TIMEOUT_MS: '2000' }),
    ).toThrow(ConfigError);
  });
});
