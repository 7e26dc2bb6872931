import { describe, expect, it } from 'vitest';
import { ConfigError } from '@platform/config';
import { loadPaymentConfig } from '../src/config.js';
import { backoffMs } from '@platform/backoff';
import { evolveAll } from '@platform/contracts';
import {
  cancelPayment,
  leasedAfter,
  paymentDecider,
  recordGatewayResult,
  requestCharge,
  type DecidedPayment,
  type GatewayResult,
  type LeasedPayment,
  type Payment,
  type PaymentChange,
  type PaymentDecision,
  type PaymentInput,
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

// Issue 24: the payment rules as one decider. Each row: a payment and an event or a gateway answer → the
// change decided → the payment it leaves, which is the row savePayments writes from what requestCharge,
// cancelPayment and recordGatewayResult decide.
describe('the payment decider', () => {
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
  const payment = (columns: Partial<DecidedPayment['payment']>, leased = false): DecidedPayment => ({
    leased,
    payment: {
      order_id: 'o-1',
      status: 'charging',
      amount: 50,
      order_snapshot: order,
      cancel_requested: false,
      attempts: 1,
      refund_attempts: 0,
      charge_id: null,
      refund_id: null,
      last_error: null,
      steps: [RESERVED],
      ...columns,
    },
  });
  /** The gateway's answer to the step the worker leased `state` for. */
  const answer = (state: DecidedPayment, result: GatewayResult): PaymentInput => ({
    kind: 'gateway_result',
    leased: { ...state.payment, trace_context: null },
    result,
    at: AT,
  });
  const CHARGED: GatewayResult = { kind: 'charged', charge: { charge_id: 'ch_1', amount: 50 } };
  const CHARGING = payment({}, true);
  const CANCELLED_WHILE_CHARGING = payment({ cancel_requested: true, refund_attempts: 1 }, true);
  const PAID = payment({ status: 'charged', charge_id: 'ch_1' });
  const REFUNDING = payment(
    { status: 'refunding', charge_id: 'ch_1', cancel_requested: true, refund_attempts: 1 },
    true,
  );

  it.each<{
    name: string;
    state: DecidedPayment | undefined;
    input: PaymentInput;
    outcome: string;
    changes: Partial<PaymentChange>[];
    event?: string;
    after: DecidedPayment | undefined;
  }>([
    {
      name: 'inventory.reserved: a charge, leased to this instance, its first attempt counted',
      state: undefined,
      input: { kind: 'request_charge', order, steps: [RESERVED] },
      outcome: 'charge_requested',
      changes: [{ kind: 'insert', amount: 50, steps: [RESERVED] }],
      after: payment({}, true),
    },
    {
      name: 'inventory.reserved after a cancellation: its tombstone wins',
      state: payment({ status: 'cancelled', amount: null, attempts: 0, steps: [] }),
      input: { kind: 'request_charge', order, steps: [RESERVED] },
      outcome: 'nothing_to_do',
      changes: [],
      after: payment({ status: 'cancelled', amount: null, attempts: 0, steps: [] }),
    },
    {
      name: 'order.cancelled before inventory.reserved: a tombstone, never leased',
      state: undefined,
      input: { kind: 'cancel', order },
      outcome: 'cancelled_before_charge',
      changes: [{ kind: 'insert', amount: null, steps: [] }],
      after: payment({ status: 'cancelled', amount: null, attempts: 0, steps: [] }),
    },
    {
      name: 'order.cancelled during a charge in flight: flagged, the worker keeps it',
      state: CHARGING,
      input: { kind: 'cancel', order },
      outcome: 'cancel_requested',
      changes: [{ kind: 'update' }],
      after: payment({ cancel_requested: true }, true),
    },
    {
      name: 'order.cancelled of a charge waiting for a retry: flagged and taken to settle now',
      state: payment({ last_error: 'timeout' }),
      input: { kind: 'cancel', order },
      outcome: 'cancel_requested',
      changes: [{ kind: 'update' }],
      after: payment({ cancel_requested: true, refund_attempts: 1, last_error: 'timeout' }, true),
    },
    {
      name: 'order.cancelled of a charge made: refunding, taken now',
      state: PAID,
      input: { kind: 'cancel', order },
      outcome: 'refund_requested',
      changes: [{ kind: 'update' }],
      after: REFUNDING,
    },
    {
      name: 'order.cancelled of a refunded payment: nothing more',
      state: payment({ status: 'refunded', charge_id: 'ch_1', refund_id: 're_1' }),
      input: { kind: 'cancel', order },
      outcome: 'nothing_to_do',
      changes: [],
      after: payment({ status: 'refunded', charge_id: 'ch_1', refund_id: 're_1' }),
    },
    {
      name: 'charged: the charge stands, announced, the lease released',
      state: CHARGING,
      input: answer(CHARGING, CHARGED),
      outcome: 'charged',
      changes: [{ kind: 'update' }],
      event: 'payment.processed',
      after: PAID,
    },
    {
      name: 'charged after the order was cancelled: money to give back, never announced as processed',
      state: CANCELLED_WHILE_CHARGING,
      input: answer(CANCELLED_WHILE_CHARGING, CHARGED),
      outcome: 'refund_requested',
      changes: [{ kind: 'update' }],
      after: payment(
        { status: 'refunding', charge_id: 'ch_1', cancel_requested: true, refund_attempts: 2 },
        true,
      ),
    },
    {
      name: 'failed after every attempt: the payment fails, announced',
      state: CHARGING,
      input: answer(CHARGING, { kind: 'failed', error: 'declined' }),
      outcome: 'failed',
      changes: [{ kind: 'update' }],
      event: 'payment.failed',
      after: payment({ status: 'failed', last_error: 'declined' }),
    },
    {
      name: 'not charged, the order cancelled: done',
      state: CANCELLED_WHILE_CHARGING,
      input: answer(CANCELLED_WHILE_CHARGING, { kind: 'not_charged' }),
      outcome: 'cancelled',
      changes: [{ kind: 'update' }],
      after: payment({ status: 'cancelled', cancel_requested: true, refund_attempts: 1 }),
    },
    {
      name: 'refunded: recorded and announced',
      state: REFUNDING,
      input: answer(REFUNDING, { kind: 'refunded', refund: { refund_id: 're_1', amount: 50 } }),
      outcome: 'refunded',
      changes: [{ kind: 'update' }],
      event: 'payment.refunded',
      after: payment({
        status: 'refunded',
        charge_id: 'ch_1',
        refund_id: 're_1',
        cancel_requested: true,
        refund_attempts: 1,
      }),
    },
    {
      name: 'no usable answer: due again after the backoff, the lease released',
      state: CHARGING,
      input: answer(CHARGING, { kind: 'retry', error: 'timeout', retryInMs: 400 }),
      outcome: 'retry_scheduled',
      changes: [{ kind: 'update' }],
      after: payment({ last_error: 'timeout' }),
    },
    {
      name: 'an answer about a payment that moved on: nothing',
      state: PAID,
      input: answer(CHARGING, CHARGED),
      outcome: 'nothing_to_do',
      changes: [],
      after: PAID,
    },
  ])('$name', ({ state, input, outcome, changes, event, after }) => {
    const decided = paymentDecider.decide(state, input);
    expect(decided.outcome).toBe(outcome);
    expect(decided.changes).toMatchObject(changes);
    expect(decided.event?.type).toBe(event);
    const evolved = evolveAll(paymentDecider, state, decided.changes);
    expect(evolved).toEqual(after);

    // What the existing rules decide: the same, and the row written from it is the state evolved.
    const legacy: PaymentDecision =
      input.kind === 'request_charge'
        ? requestCharge(input.order, state, input.steps)
        : input.kind === 'cancel'
          ? cancelPayment(input.order, state)
          : recordGatewayResult(input.leased, state, input.result, input.at);
    expect(decided.changes).toEqual(legacy.change ? [legacy.change] : []);
    expect(decided.event?.payload).toEqual(legacy.event?.payload);
    const change = legacy.change;
    if (!change) {
      expect(evolved).toBe(state);
      return;
    }
    const { write } = change;
    const row = evolved?.payment;
    // The worker's view of the row, as the use case hands it over after writing it.
    const amount = change.kind === 'insert' ? change.amount : (state?.payment.amount ?? null);
    const handedOver: LeasedPayment = leasedAfter({ order_id: 'o-1', amount, trace_context: null }, write);
    expect({ ...row, trace_context: null }).toMatchObject(handedOver);
    if (change.kind === 'update') {
      expect(row).toMatchObject({
        charge_id: write.charge_id,
        refund_id: write.refund_id,
        last_error: write.last_error,
      });
    } else {
      expect(row).toMatchObject({ order_snapshot: change.order, steps: change.steps });
    }
    // A lease taken runs, released ends; no word about it leaves it as it was (a new row has none).
    expect(evolved?.leased).toBe(
      write.lease === undefined ? (state?.leased ?? false) : write.lease === 'take',
    );
  });

  it('starts from no payment, and refuses a change the repository could not write', () => {
    expect(paymentDecider.initial).toBeUndefined();
    const update: PaymentChange = { kind: 'update', write: { ...PAID.payment } };
    expect(() => paymentDecider.evolve(undefined, update)).toThrow(/updated before it is inserted/);
    const insert = paymentDecider.decide(undefined, { kind: 'cancel', order }).changes;
    expect(() => evolveAll(paymentDecider, PAID, insert)).toThrow(/inserted twice/);
  });

  it('decides on a payment as loaded (with the columns the database stamps) as on its decided columns', () => {
    const loaded: PaymentState = {
      leased: false,
      payment: {
        ...PAID.payment,
        next_attempt_at: new Date(),
        lease_until: null,
        trace_context: null,
        created_at: new Date(),
        updated_at: new Date(),
      } satisfies Payment,
    };
    expect(paymentDecider.decide(loaded, { kind: 'cancel', order })).toEqual(
      paymentDecider.decide(PAID, { kind: 'cancel', order }),
    );
  });
});
