import { describe, expect, it } from 'vitest';
import { ConfigError } from '@platform/config';
import { loadPaymentConfig } from '../src/config.js';
import { backoffMs } from '@platform/backoff';
import {
  cancelPayment,
  recordGatewayResult,
  requestCharge,
  type Payment,
  type PaymentState,
} from '../src/payments/payment.js';

describe('retry delays', () => {
  const retry = { baseMs: 200, maxMs: 30_000 };

  it('grow exponentially from the first attempt up to the cap, jittered between half and all of it', () => {
    expect(
      [1, 2, 3, 4, 8, 9, 20].map((attempt) => backoffMs(attempt, retry, 'equal', () => 0.999_999)),
    ).toEqual([200, 400, 800, 1_600, 25_600, 30_000, 30_000]);
    expect([1, 2, 9].map((attempt) => backoffMs(attempt, retry, 'equal', () => 0))).toEqual([
      100, 200, 15_000,
    ]);
  });
});

describe('payment configuration', () => {
  it('has the documented defaults', () => {
    const config = loadPaymentConfig({});
    // Loopback unless configured (SPEC §4.10): containers set 0.0.0.0.
    expect(config.http).toEqual({ host: '127.0.0.1', port: 8002 });
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

describe('payment decisions', () => {
  const order = {
    order_id: 'o-1',
    user_id: 'customer-123',
    customer_fullname: 'Grace Hopper',
    product_name: 'Product A',
    total_amount: 50,
    created_at: '2026-11-30T00:00:00.000Z',
    items: [{ product_code: 'product-A', product_name: 'Product A', quantity: 1, unit_price: 50 }],
  };
  const RESERVED = { step: 'stock_reserved' as const, at: '2026-11-30T00:00:01.000Z' };
  const AT = '2026-11-30T00:00:02.000Z';
  const stored = (changes: Partial<Payment>, leased = false): PaymentState => ({
    leased,
    payment: {
      order_id: 'o-1',
      status: 'charging',
      amount: 50,
      order_snapshot: order,
      cancel_requested: false,
      attempts: 1,
      refund_attempts: 0,
      next_attempt_at: new Date(),
      lease_until: null,
      charge_id: null,
      refund_id: null,
      last_error: null,
      trace_context: null,
      steps: [RESERVED],
      created_at: new Date(),
      updated_at: new Date(),
      ...changes,
    },
  });

  it('requests a charge leased to this instance, its first attempt counted; never a second one', () => {
    expect(requestCharge(order, undefined, [RESERVED])).toMatchObject({
      outcome: 'charge_requested',
      change: {
        kind: 'insert',
        amount: 50,
        // Kept, to be passed on with the charge's own step.
        steps: [RESERVED],
        write: { status: 'charging', attempts: 1, lease: 'take', dueInMs: 0 },
      },
    });
    expect(requestCharge(order, stored({ status: 'cancelled', amount: null }))).toEqual({
      outcome: 'nothing_to_do',
    });
    expect(() => requestCharge({ ...order, total_amount: null }, undefined)).toThrow(
      /no positive total_amount/,
    );
  });

  it('on cancellation: a tombstone before the charge, a flag on a charge in flight, a refund of a charge', () => {
    expect(cancelPayment(order, undefined)).toMatchObject({
      outcome: 'cancelled_before_charge',
      change: { kind: 'insert', amount: null, write: { status: 'cancelled' } },
    });
    // A worker holds it (its call may have charged): only flagged.
    expect(cancelPayment(order, stored({}, true))).toMatchObject({
      outcome: 'cancel_requested',
      change: { write: { cancel_requested: true, dueInMs: 0 } },
    });
    expect(cancelPayment(order, stored({}, true)).change?.write.lease).toBeUndefined();
    // Waiting for a retry: taken now, to be settled by this instance's worker.
    expect(cancelPayment(order, stored({}, false))).toMatchObject({
      change: { write: { cancel_requested: true, lease: 'take', refund_attempts: 1 } },
    });
    expect(cancelPayment(order, stored({ status: 'charged', charge_id: 'ch_1' }))).toMatchObject({
      outcome: 'refund_requested',
      change: { write: { status: 'refunding', lease: 'take' } },
    });
    expect(cancelPayment(order, stored({ status: 'refunded' }))).toEqual({ outcome: 'nothing_to_do' });
  });

  it('records a charge made after a cancellation as money to give back, never as processed', () => {
    const leased = {
      order_id: 'o-1',
      status: 'charging' as const,
      amount: 50,
      cancel_requested: false,
      attempts: 1,
      refund_attempts: 0,
      trace_context: null,
    };
    const charge = { charge_id: 'ch_1', amount: 50 };
    const decided = recordGatewayResult(
      leased,
      stored({ cancel_requested: true }, true),
      { kind: 'charged', charge },
      AT,
    );
    expect(decided).toMatchObject({
      outcome: 'refund_requested',
      change: { write: { status: 'refunding', lease: 'take' } },
    });
    expect(decided.event).toBeUndefined();
    expect(recordGatewayResult(leased, stored({}, true), { kind: 'charged', charge }, AT)).toMatchObject({
      outcome: 'charged',
      event: { type: 'payment.processed' },
    });
  });

  it('passes the steps before the charge on with its own: paid, or payment_failed', () => {
    const leased = {
      order_id: 'o-1',
      status: 'charging' as const,
      amount: 50,
      cancel_requested: false,
      attempts: 5,
      refund_attempts: 0,
      trace_context: null,
    };
    const paid = recordGatewayResult(
      leased,
      stored({}, true),
      { kind: 'charged', charge: { charge_id: 'ch_1', amount: 50 } },
      AT,
    );
    expect(paid.event?.payload).toMatchObject({
      steps: [RESERVED, { step: 'paid', at: AT, data: { charge_id: 'ch_1', amount: 50 } }],
    });
    const failed = recordGatewayResult(leased, stored({}, true), { kind: 'failed', error: 'declined' }, AT);
    expect(failed.event?.payload).toMatchObject({
      steps: [RESERVED, { step: 'payment_failed', at: AT, data: { reason: 'payment_failed' } }],
    });
  });

  it('changes nothing for a result about a payment that moved on meanwhile', () => {
    const leased = {
      order_id: 'o-1',
      status: 'charging' as const,
      amount: 50,
      cancel_requested: false,
      attempts: 1,
      refund_attempts: 0,
      trace_context: null,
    };
    expect(
      recordGatewayResult(
        leased,
        stored({ status: 'charged', charge_id: 'ch_1' }),
        { kind: 'charged', charge: { charge_id: 'ch_1', amount: 50 } },
        AT,
      ),
    ).toEqual({ outcome: 'nothing_to_do' });
    expect(recordGatewayResult(leased, undefined, { kind: 'failed', error: 'x' }, AT)).toEqual({
      outcome: 'nothing_to_do',
    });
  });
});
