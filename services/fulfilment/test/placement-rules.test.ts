import { describe, expect, it } from 'vitest';
import { ConfigError } from '@platform/config';
import { loadFulfilmentConfig } from '../src/config.js';
import { backoffMs } from '@platform/backoff';
import {
  cancelPlacement,
  recordAttempt,
  startPlacement,
  type Placement,
} from '../src/placements/placement.js';

describe('retry delays', () => {
  const retry = { baseMs: 250, maxMs: 5_000 };

  it('grow exponentially from the first attempt up to the cap, jittered between half and all of it', () => {
    expect(
      [1, 2, 3, 4, 5, 6, 11].map((attempt) => backoffMs(attempt, retry, 'equal', () => 0.999_999)),
    ).toEqual([250, 500, 1_000, 2_000, 4_000, 5_000, 5_000]);
    expect([1, 2, 6].map((attempt) => backoffMs(attempt, retry, 'equal', () => 0))).toEqual([
      125, 250, 2_500,
    ]);
  });
});

describe('fulfilment configuration', () => {
  it('has the documented defaults', () => {
    const config = loadFulfilmentConfig({});
    // Loopback unless configured (SPEC §4.10): containers set 0.0.0.0.
    expect(config.http).toEqual({ host: '127.0.0.1', port: 8003 });
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

describe('placement decisions', () => {
  const order = {
    order_id: 'o-1',
    user_id: 'customer-123',
    customer_fullname: 'Grace Hopper',
    product_name: 'Product A',
    total_amount: 50,
    created_at: '2026-11-30T00:00:00.000Z',
    items: [{ product_code: 'product-A', product_name: 'Product A', quantity: 1, unit_price: 50 }],
  };
  const BEFORE = [
    { step: 'stock_reserved' as const, at: '2026-11-30T00:00:01.000Z' },
    { step: 'paid' as const, at: '2026-11-30T00:00:02.000Z', data: { charge_id: 'ch_1', amount: 50 } },
  ];
  const AT = '2026-11-30T00:00:03.000Z';
  const placement = (status: Placement['status'], placementId: string | null = null): Placement => ({
    order_id: 'o-1',
    status,
    placement_id: placementId,
    steps: BEFORE,
  });

  it('starts a placement leased to this instance, unless the order already has a row (a cancellation first)', () => {
    const deadline = new Date('2026-11-30T00:01:00Z');
    expect(startPlacement(order, undefined, deadline, BEFORE)).toEqual({
      outcome: 'placing',
      change: { kind: 'insert', order, status: 'placing', deadlineAt: deadline, lease: true, steps: BEFORE },
    });
    expect(startPlacement(order, placement('cancelled'), deadline)).toEqual({ outcome: 'nothing_to_do' });
  });

  it('stops a placement in progress, leaves a mark before one, and leaves a placed order placed', () => {
    expect(cancelPlacement(order, undefined)).toMatchObject({
      outcome: 'cancelled_before_payment',
      change: { kind: 'insert', status: 'cancelled', lease: false },
    });
    expect(cancelPlacement(order, placement('placing'))).toMatchObject({ outcome: 'cancelled' });
    expect(cancelPlacement(order, placement('placed', 'pl_1'))).toEqual({ outcome: 'nothing_to_do' });
  });

  it('announces a placement once, keeps the reference of one accepted after a cancellation, and ignores stale results', () => {
    expect(
      recordAttempt(order, placement('placing'), { kind: 'placed', placementId: 'pl_1' }, AT),
    ).toMatchObject({
      outcome: 'placed',
      event: {
        type: 'fulfilment.placed',
        payload: {
          placement: { placement_id: 'pl_1' },
          // The steps before it, passed on with its own.
          steps: [...BEFORE, { step: 'fulfilment_placed', at: AT, data: { placement_id: 'pl_1' } }],
        },
      },
    });
    const late = recordAttempt(order, placement('cancelled'), { kind: 'placed', placementId: 'pl_2' }, AT);
    expect(late).toMatchObject({ outcome: 'placed_after_cancellation', change: { placement_id: 'pl_2' } });
    expect(late.event).toBeUndefined();
    expect(recordAttempt(order, placement('placed', 'pl_1'), { kind: 'failed', error: 'x' }, AT)).toEqual({
      outcome: 'nothing_to_do',
    });
    expect(recordAttempt(order, placement('placing'), { kind: 'failed', error: 'down' }, AT)).toMatchObject({
      outcome: 'failed',
      event: {
        type: 'fulfilment.failed',
        payload: {
          reason: 'placement_failed',
          steps: [...BEFORE, { step: 'placement_failed', at: AT, data: { reason: 'placement_failed' } }],
        },
      },
    });
  });
});
