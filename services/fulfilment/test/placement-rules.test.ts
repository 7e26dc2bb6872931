import { describe, expect, it } from 'vitest';
import { ConfigError } from '@platform/config';
import { loadFulfilmentConfig } from '../src/config.js';
import { backoffMs } from '@platform/backoff';
import { evolveAll } from '@platform/contracts';
import {
  cancelPlacement,
  placementDecider,
  recordAttempt,
  startPlacement,
  type Placement,
  type PlacementChange,
  type PlacementDecision,
  type PlacementInput,
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

// Issue 24: the placement rules as one decider. Each row: a placement and an event or an attempt's result →
// the change decided → the placement it leaves, which is the row savePlacements writes from what
// startPlacement, cancelPlacement and recordAttempt decide.
describe('the placement decider', () => {
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
  const DEADLINE = new Date('2026-11-30T00:01:00Z');
  const placement = (
    status: Placement['status'],
    placementId: string | null = null,
    steps = BEFORE,
  ): Placement => ({ order_id: 'o-1', status, placement_id: placementId, steps });
  const START: PlacementInput = { kind: 'start', order, deadlineAt: DEADLINE, steps: BEFORE };
  const CANCEL: PlacementInput = { kind: 'cancel', order };
  const attempt = (result: Extract<PlacementInput, { kind: 'attempt' }>['result']): PlacementInput => ({
    kind: 'attempt',
    order,
    result,
    at: AT,
  });
  const update = (status: Placement['status'], placementId: string | null, lastError: string | null) => ({
    kind: 'update' as const,
    status,
    placement_id: placementId,
    last_error: lastError,
    release: true,
  });

  it.each<{
    name: string;
    state: Placement | undefined;
    input: PlacementInput;
    outcome: string;
    changes: PlacementChange[];
    event?: string;
    after: Placement | undefined;
  }>([
    {
      name: 'payment.processed: placing, leased to this instance, by the deadline',
      state: undefined,
      input: START,
      outcome: 'placing',
      changes: [
        { kind: 'insert', order, status: 'placing', deadlineAt: DEADLINE, lease: true, steps: BEFORE },
      ],
      after: placement('placing'),
    },
    {
      name: 'payment.processed after a cancellation: its mark wins',
      state: placement('cancelled', null, []),
      input: START,
      outcome: 'nothing_to_do',
      changes: [],
      after: placement('cancelled', null, []),
    },
    {
      name: 'order.cancelled before payment.processed: a mark, never leased',
      state: undefined,
      input: CANCEL,
      outcome: 'cancelled_before_payment',
      changes: [{ kind: 'insert', order, status: 'cancelled', lease: false, steps: [] }],
      after: placement('cancelled', null, []),
    },
    {
      name: 'order.cancelled of a placement in progress: stopped',
      state: placement('placing'),
      input: CANCEL,
      outcome: 'cancelled',
      changes: [update('cancelled', null, null)],
      after: placement('cancelled'),
    },
    {
      name: 'order.cancelled of a placed order: it stays placed (the partner has no cancel API)',
      state: placement('placed', 'pl_1'),
      input: CANCEL,
      outcome: 'nothing_to_do',
      changes: [],
      after: placement('placed', 'pl_1'),
    },
    {
      name: "placed: the partner's reference kept, announced",
      state: placement('placing'),
      input: attempt({ kind: 'placed', placementId: 'pl_1' }),
      outcome: 'placed',
      changes: [update('placed', 'pl_1', null)],
      event: 'fulfilment.placed',
      after: placement('placed', 'pl_1'),
    },
    {
      name: 'a retry: still placing, due after the delay',
      state: placement('placing'),
      input: attempt({ kind: 'retry', error: 'busy', delayMs: 500 }),
      outcome: 'retry_scheduled',
      changes: [{ ...update('placing', null, 'busy'), dueInMs: 500 }],
      after: placement('placing'),
    },
    {
      name: 'failed for good: announced',
      state: placement('placing'),
      input: attempt({ kind: 'failed', error: 'down' }),
      outcome: 'failed',
      changes: [update('failed', null, 'down')],
      event: 'fulfilment.failed',
      after: placement('failed'),
    },
    {
      name: 'placed after the order was cancelled: the reference kept, nothing announced',
      state: placement('cancelled'),
      input: attempt({ kind: 'placed', placementId: 'pl_2' }),
      outcome: 'placed_after_cancellation',
      changes: [update('cancelled', 'pl_2', null)],
      after: placement('cancelled', 'pl_2'),
    },
    {
      name: 'a result about a placement settled meanwhile: nothing',
      state: placement('placed', 'pl_1'),
      input: attempt({ kind: 'failed', error: 'x' }),
      outcome: 'nothing_to_do',
      changes: [],
      after: placement('placed', 'pl_1'),
    },
  ])('$name', ({ state, input, outcome, changes, event, after }) => {
    const decided = placementDecider.decide(state, input);
    expect(decided.outcome).toBe(outcome);
    expect(decided.changes).toEqual(changes);
    expect(decided.event?.type).toBe(event);
    const evolved = evolveAll(placementDecider, state, decided.changes);
    expect(evolved).toEqual(after);

    // What the existing rules decide: the same, and the row written from it is the state evolved.
    const legacy: PlacementDecision =
      input.kind === 'start'
        ? startPlacement(input.order, state, input.deadlineAt, input.steps)
        : input.kind === 'cancel'
          ? cancelPlacement(input.order, state)
          : recordAttempt(input.order, state, input.result, input.at);
    expect(decided.changes).toEqual(legacy.change ? [legacy.change] : []);
    expect(decided.event?.payload).toEqual(legacy.event?.payload);
    if (!legacy.change) expect(evolved).toBe(state);
    else if (legacy.change.kind === 'insert') {
      expect(evolved).toEqual({
        order_id: legacy.change.order.order_id,
        status: legacy.change.status,
        placement_id: null,
        steps: legacy.change.steps,
      });
    } else {
      // The partner's reference is kept unless the change brings one (the UPDATE's coalesce).
      expect(evolved).toMatchObject({
        status: legacy.change.status,
        placement_id: legacy.change.placement_id ?? state?.placement_id,
      });
    }
  });

  it('starts from no placement, and refuses a change the repository could not write', () => {
    expect(placementDecider.initial).toBeUndefined();
    expect(() => placementDecider.evolve(undefined, update('cancelled', null, null))).toThrow(
      /updated before it is inserted/,
    );
    const [insert] = placementDecider.decide(undefined, START).changes;
    expect(() => evolveAll(placementDecider, placement('placing'), insert ? [insert] : [])).toThrow(
      /inserted twice/,
    );
  });

  it("keeps the partner's reference through a change that brings none", () => {
    expect(placementDecider.evolve(placement('cancelled', 'pl_2'), update('cancelled', null, null))).toEqual(
      placement('cancelled', 'pl_2'),
    );
  });
});
