import { describe, expect, it } from 'vitest';
import { evolveAll, initialStateOf, ORDER_STATES, ORDER_TRANSITIONS } from '@platform/contracts';
import { sagaEvent } from '@platform/testing';
import type { HistoryChange } from '../src/orders/order-history.js';
import {
  decide,
  evolve,
  orderDecider,
  transition,
  SAGA_EVENT_TYPES,
  type OrderChange,
  type OrderInput,
  type ReportedEvent,
} from '../src/orders/order-state-machine.js';
import { toSnapshot, type Order } from '../src/orders/order.js';

const AT = new Date('2026-11-30T10:00:00Z');
const ITEMS = [{ product_code: 'product-A', quantity: 2, product_name: null, unit_price: null }];
const PRICED_ITEMS = [{ product_code: 'product-A', quantity: 2, product_name: 'Product A', unit_price: 25 }];

const placed = evolve(
  undefined,
  { step: 'placed', data: { user_id: 'customer-123', items: ITEMS, requested_total_amount: null } },
  AT,
  '6f7c1f0e-93b8-4a55-9a57-1b1f2c3d4e5f',
);
const priced = evolve(
  placed,
  { step: 'priced', data: { customer_fullname: 'Grace Hopper', items: PRICED_ITEMS, total_amount: 50 } },
  AT,
);
const completed = evolve(evolve(priced, { step: 'fulfilment_placed' }, AT), { step: 'completed' }, AT);
const cancelled = evolve(priced, { step: 'cancelled', reason: 'payment_failed' }, AT);

const STATES: Record<string, Order> = { placed, priced, completed, cancelled };

const sagaInput = (type: (typeof SAGA_EVENT_TYPES)[number]): OrderInput => ({
  kind: 'saga_event',
  // One event of the union (sagaEvent's result type is not distributed over it).
  event: sagaEvent(type, toSnapshot(priced)) as ReportedEvent,
});

const INPUTS: Record<string, OrderInput> = {
  price: { kind: 'price', customerFullname: 'Grace Hopper', items: PRICED_ITEMS, totalAmount: 50 },
  'reject user_not_found': { kind: 'reject', reason: 'user_not_found' },
  'reject product_not_found': { kind: 'reject', reason: 'product_not_found' },
  'reject dependency_unavailable': { kind: 'reject', reason: 'dependency_unavailable' },
  'reject total_mismatch': { kind: 'reject', reason: 'total_mismatch' },
  cancel_by_customer: { kind: 'cancel_by_customer' },
  expire: { kind: 'expire' },
  ...Object.fromEntries(SAGA_EVENT_TYPES.map((type) => [type, sagaInput(type)])),
};

/** What is expected: outcome, the steps appended (`!` marks after_final), the announcement, the state after. */
type Expected = [outcome: string, steps: string, announce: string, status: string];

const LATE = (...steps: string[]): Expected => [
  'after_final',
  steps.map((step) => `!${step}`).join(' '),
  '-',
  'same',
];
const NOTHING: Expected = ['unchanged', '', '-', 'same'];
const cancels = (reason: string, ...before: string[]): Expected => [
  'cancelled',
  [...before, `cancelled:${reason}`].join(' '),
  'order.cancelled',
  'CANCELLED',
];
// Each event brings the steps before it (SPEC §2): recorded first, then the order completes or cancels.
const PENDING_SAGA: Record<string, Expected> = {
  'inventory.unavailable': cancels('out_of_stock', 'out_of_stock'),
  'payment.failed': cancels('payment_failed', 'stock_reserved', 'payment_failed'),
  'fulfilment.placed': [
    'completed',
    'stock_reserved paid fulfilment_placed completed',
    'order.completed',
    'COMPLETED',
  ],
  'fulfilment.failed': cancels('placement_failed', 'stock_reserved', 'paid', 'placement_failed'),
};
const FINAL_SAGA: Record<string, Expected> = {
  'inventory.unavailable': LATE('out_of_stock'),
  'payment.failed': LATE('stock_reserved', 'payment_failed'),
  'fulfilment.placed': LATE('stock_reserved', 'paid', 'fulfilment_placed'),
  'fulfilment.failed': LATE('stock_reserved', 'paid', 'placement_failed'),
};
const FINAL: Record<string, Expected> = {
  price: NOTHING,
  'reject user_not_found': NOTHING,
  'reject product_not_found': NOTHING,
  'reject dependency_unavailable': NOTHING,
  'reject total_mismatch': NOTHING,
  cancel_by_customer: NOTHING,
  expire: NOTHING,
  ...FINAL_SAGA,
};

/** Every state × every input: the whole machine, one row each. */
const TABLE: Record<string, Record<string, Expected>> = {
  placed: {
    price: ['priced', 'priced', 'order.created', 'PENDING'],
    'reject user_not_found': cancels('user_not_found'),
    'reject product_not_found': cancels('product_not_found'),
    'reject dependency_unavailable': cancels('dependency_unavailable'),
    'reject total_mismatch': cancels('total_mismatch'),
    cancel_by_customer: cancels('customer_request'),
    expire: cancels('timeout'),
    ...PENDING_SAGA,
  },
  priced: {
    // A second verdict (an order leased twice) changes nothing.
    price: NOTHING,
    'reject user_not_found': NOTHING,
    'reject product_not_found': NOTHING,
    'reject dependency_unavailable': NOTHING,
    'reject total_mismatch': NOTHING,
    cancel_by_customer: cancels('customer_request'),
    expire: cancels('timeout'),
    ...PENDING_SAGA,
  },
  completed: FINAL,
  cancelled: FINAL,
};

const describeStep = (change: HistoryChange): string =>
  ('after_final' in change && change.after_final ? '!' : '') +
  change.step +
  ('reason' in change ? `:${change.reason}` : '');

describe('the order state machine: every state × every input', () => {
  for (const [stateName, state] of Object.entries(STATES)) {
    for (const [inputName, input] of Object.entries(INPUTS)) {
      const expected = TABLE[stateName]?.[inputName];
      it(`${stateName} × ${inputName} → ${expected?.slice(0, 2).join(' ')}`, () => {
        if (!expected) throw new Error(`no expectation for ${stateName} × ${inputName}`);
        const [outcome, steps, announce, status] = expected;
        const { decision, after, events } = transition(state, input, AT);
        expect(decision.outcome).toBe(outcome);
        expect(decision.changes.map(describeStep).join(' ')).toBe(steps);
        expect(events.map((event) => event.type).join(' ') || '-').toBe(announce);
        expect(after.status).toBe(status === 'same' ? state.status : status);
        expect(after.version).toBe(state.version + decision.changes.length);
        for (const event of events) expect(event.correlation_id).toBe(state.id);
      });
    }
  }

  it('covers the whole table: four states, eleven inputs', () => {
    expect(Object.keys(STATES)).toHaveLength(4);
    expect(Object.keys(INPUTS)).toHaveLength(11);
    for (const state of Object.keys(STATES))
      expect(Object.keys(TABLE[state] ?? {}).sort()).toEqual(Object.keys(INPUTS).sort());
  });
});

describe('duplicates and late inputs', () => {
  it('applies a cancelling input once: the same input again changes nothing', () => {
    const once = transition(priced, { kind: 'cancel_by_customer' }, AT).after;
    expect(decide(once, { kind: 'cancel_by_customer' })).toEqual({ outcome: 'unchanged', changes: [] });
    expect(decide(once, { kind: 'expire' }).outcome).toBe('unchanged');
  });

  it('records a step delivered twice after the order completed as late, without acting on it', () => {
    const done = transition(priced, sagaInput('fulfilment.placed'), AT).after;
    const again = transition(done, sagaInput('fulfilment.placed'), AT);
    expect(again.decision.outcome).toBe('after_final');
    expect(again.events).toEqual([]);
    expect(again.after.status).toBe('COMPLETED');
  });

  it('keeps what each step reported and when it happened: the reservation, the charge, the placement', () => {
    const { changes } = decide(priced, sagaInput('fulfilment.placed'));
    const created = Date.parse(toSnapshot(priced).created_at);
    const at = (seconds: number) => new Date(created + seconds * 1000).toISOString();
    expect(changes).toEqual([
      { step: 'stock_reserved', reportedAt: at(1) },
      { step: 'paid', reportedAt: at(2), data: { charge_id: `ch_${priced.id}`, amount: 50 } },
      { step: 'fulfilment_placed', reportedAt: at(3), data: { placement_id: `pl_${priced.id}` } },
      { step: 'completed' },
    ]);
    // A late report is stamped when recorded: a fact of the order's history from then on.
    expect(decide(completed, sagaInput('inventory.unavailable')).changes).toEqual([
      {
        step: 'out_of_stock',
        after_final: true,
        data: { missing: [{ product_code: 'product-A', requested: 2, available: 0 }] },
      },
    ]);
  });

  it("records an earlier version's event, which carries no steps, as its own step alone", () => {
    const bare = sagaEvent('fulfilment.placed', toSnapshot(priced), { steps: undefined }) as ReportedEvent;
    expect(decide(priced, { kind: 'saga_event', event: bare }).changes).toEqual([
      { step: 'fulfilment_placed', data: { placement_id: `pl_${priced.id}` } },
      { step: 'completed' },
    ]);
  });
});

describe('evolve: the order as the fold of its history', () => {
  it('builds the order from placed, gives it prices, and makes it final', () => {
    expect(placed).toMatchObject({ status: 'PENDING', version: 1, priced_at: null, items: ITEMS });
    expect(priced).toMatchObject({
      customer_fullname: 'Grace Hopper',
      total_amount: 50,
      version: 2,
      priced_at: AT,
    });
    expect(completed).toMatchObject({ status: 'COMPLETED', reason: null, version: 4 });
    expect(cancelled).toMatchObject({ status: 'CANCELLED', reason: 'payment_failed', version: 3 });
  });

  it('moves updated_at to each change, and never created_at', () => {
    const later = new Date('2026-11-30T10:00:05Z');
    const next = evolve(priced, { step: 'paid' }, later);
    expect(next.updated_at).toEqual(later);
    expect(next.created_at).toEqual(AT);
  });

  it('refuses a history that does not start with placed, or places twice', () => {
    expect(() => evolve(undefined, { step: 'completed' }, AT)).toThrow(/must start with placed/);
    expect(() =>
      evolve(
        placed,
        { step: 'placed', data: { user_id: 'u', items: ITEMS, requested_total_amount: null } },
        AT,
      ),
    ).toThrow(/placed twice/);
  });
});

// Issue 24: the lifecycle declared in @platform/contracts (states, moves, reasons; drawn into the docs) is
// what this state machine does: each declared move, made from a priced PENDING order, lands where it says.
describe('the declared lifecycle', () => {
  const INPUT_OF: Record<string, OrderInput[]> = {
    priced: [{ kind: 'price', customerFullname: 'Grace Hopper', items: PRICED_ITEMS, totalAmount: 50 }],
    'pricing refused': (['user_not_found', 'product_not_found', 'total_mismatch'] as const).map((reason) => ({
      kind: 'reject',
      reason,
    })),
    'enrichment deadline': [{ kind: 'reject', reason: 'dependency_unavailable' }],
    'cancelled by the customer': [{ kind: 'cancel_by_customer' }],
    'saga deadline': [{ kind: 'expire' }],
    ...Object.fromEntries(SAGA_EVENT_TYPES.map((type) => [type, [sagaInput(type)]])),
  };

  it('covers every input of the state machine, and each declared move is what the machine does', () => {
    const covered = new Set<OrderInput>();
    for (const move of ORDER_TRANSITIONS) {
      const inputs = INPUT_OF[move.on];
      expect(inputs, `an input for "${move.on}"`).toBeDefined();
      for (const [i, input] of (inputs ?? []).entries()) {
        covered.add(input);
        // Pricing applies to an order not yet priced; everything else to a priced one.
        const from = input.kind === 'price' || input.kind === 'reject' ? placed : priced;
        const after = transition(from, input, AT).after;
        expect(after.status, `${move.on} #${i}`).toBe(move.to);
        if (move.reasons) expect(move.reasons, `${move.on} #${i}`).toContain(after.reason);
      }
    }
    // Every kind of input, and every saga event the order service consumes, is declared.
    expect(new Set([...covered].map((input) => input.kind))).toEqual(
      new Set(['price', 'reject', 'cancel_by_customer', 'expire', 'saga_event']),
    );
    for (const type of SAGA_EVENT_TYPES) expect(ORDER_TRANSITIONS.map((move) => move.on)).toContain(type);
    expect([...ORDER_STATES]).toEqual(['PENDING', 'COMPLETED', 'CANCELLED']);
  });
});

// Issue 24: the order's rules as one decider (the shape every service's rules now have). Each row: an order
// and an input → the changes decided, stamped with the order and the time → the order they leave, which is
// what `transition` makes of it (and what saveTransitions writes).
describe('the order decider', () => {
  const LATER = new Date('2026-11-30T10:00:05Z');
  const stamped = (...changes: HistoryChange[]): OrderChange[] =>
    changes.map((change) => ({ ...change, order_id: placed.id, at: LATER }));
  const paidSteps = decide(priced, sagaInput('fulfilment.placed')).changes.slice(0, 3);

  it.each<{
    name: string;
    state: Order | undefined;
    input: OrderInput;
    outcome: string;
    changes: OrderChange[];
    after: Partial<Order> | undefined;
  }>([
    {
      name: 'placed × price: priced, announced as created',
      state: placed,
      input: INPUTS.price as OrderInput,
      outcome: 'priced',
      changes: stamped({
        step: 'priced',
        data: { customer_fullname: 'Grace Hopper', items: PRICED_ITEMS, total_amount: 50 },
      }),
      after: { status: 'PENDING', total_amount: 50, priced_at: LATER, version: 2, updated_at: LATER },
    },
    {
      name: 'placed × reject: cancelled with the reason, never priced',
      state: placed,
      input: { kind: 'reject', reason: 'product_not_found' },
      outcome: 'cancelled',
      changes: stamped({ step: 'cancelled', reason: 'product_not_found' }),
      after: { status: 'CANCELLED', reason: 'product_not_found', priced_at: null, version: 2 },
    },
    {
      name: 'priced × price again (leased twice): unchanged',
      state: priced,
      input: INPUTS.price as OrderInput,
      outcome: 'unchanged',
      changes: [],
      after: priced,
    },
    {
      name: 'priced × expire: cancelled, timeout',
      state: priced,
      input: { kind: 'expire' },
      outcome: 'cancelled',
      changes: stamped({ step: 'cancelled', reason: 'timeout' }),
      after: { status: 'CANCELLED', reason: 'timeout', version: 3, updated_at: LATER },
    },
    {
      name: 'priced × fulfilment.placed: the steps before it, then completed',
      state: priced,
      input: sagaInput('fulfilment.placed'),
      outcome: 'completed',
      changes: stamped(...paidSteps, { step: 'completed' }),
      after: { status: 'COMPLETED', reason: null, version: 6 },
    },
    {
      name: 'completed × payment.failed: recorded late, acted on no further',
      state: completed,
      input: sagaInput('payment.failed'),
      outcome: 'after_final',
      changes: stamped(
        { step: 'stock_reserved', after_final: true },
        { step: 'payment_failed', after_final: true, data: { reason: 'payment_failed' } },
      ),
      after: { status: 'COMPLETED', version: 6 },
    },
    {
      name: 'cancelled × cancel_by_customer: unchanged',
      state: cancelled,
      input: { kind: 'cancel_by_customer' },
      outcome: 'unchanged',
      changes: [],
      after: cancelled,
    },
    {
      name: 'no order × any input: nothing to change',
      state: undefined,
      input: { kind: 'expire' },
      outcome: 'unchanged',
      changes: [],
      after: undefined,
    },
  ])('$name', ({ state, input, outcome, changes, after }) => {
    const decided = orderDecider.decide(state, { input, at: LATER });
    expect(decided.outcome).toBe(outcome);
    expect(decided.changes).toEqual(changes);
    const evolved = evolveAll(orderDecider, state, decided.changes);
    if (after === undefined) expect(evolved).toBeUndefined();
    else expect(evolved).toMatchObject(after);
    // What the existing state machine makes of it: the same decision, the same order after.
    if (state) {
      const { decision, after: transitioned } = transition(state, input, LATER);
      expect(decided).toEqual({
        ...decision,
        changes: decision.changes.map((change) => ({ ...change, order_id: state.id, at: LATER })),
      });
      expect(evolved).toEqual(transitioned);
    }
  });

  it('folds to what transition gives for every state × every input', () => {
    for (const [stateName, state] of Object.entries(STATES)) {
      for (const [inputName, input] of Object.entries(INPUTS)) {
        const { changes } = orderDecider.decide(state, { input, at: LATER });
        expect(evolveAll(orderDecider, state, changes), `${stateName} × ${inputName}`).toEqual(
          transition(state, input, LATER).after,
        );
      }
    }
  });

  it('starts from no order: its history folded from there is the order (as a rebuild folds it)', () => {
    const initial = initialStateOf(orderDecider);
    expect(initial).toBeUndefined();
    const history: OrderChange[] = [
      {
        step: 'placed',
        data: { user_id: 'customer-123', items: ITEMS, requested_total_amount: null },
        order_id: placed.id,
        at: AT,
      },
      ...orderDecider.decide(placed, { input: INPUTS.price as OrderInput, at: AT }).changes,
    ];
    expect(evolveAll(orderDecider, initial, history)).toEqual(priced);
  });
});
