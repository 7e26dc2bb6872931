import { describe, expect, it } from 'vitest';
import { evolveAll, initialStateOf } from '@platform/contracts';
import {
  applyMovement,
  releaseStock,
  reserveStock,
  sellStock,
  shortages,
  stockDecider,
  type OrderStock,
  type Reservation,
  type StockChange,
  type StockCounters,
  type StockDecision,
  type StockInput,
} from '../src/stock/stock.js';
import { pricedOrder } from './inventory.harness.js';

const available = (entries: Record<string, number>) => new Map(Object.entries(entries));

describe('stock decisions', () => {
  it('reserves every item of an order, or none when one is short, naming what is missing', () => {
    const order = pricedOrder([
      { product_code: 'product-A', quantity: 2 },
      { product_code: 'product-B', quantity: 1 },
    ]);
    expect(reserveStock(order, undefined, available({ 'product-A': 2, 'product-B': 1 }))).toMatchObject({
      outcome: 'reserved',
      reservation: { status: 'reserved' },
      movement: { kind: 'reserve' },
    });
    expect(reserveStock(order, undefined, available({ 'product-A': 2 }))).toEqual({
      outcome: 'out_of_stock',
      reservation: {
        status: 'rejected',
        items: [
          { product_code: 'product-A', quantity: 2 },
          { product_code: 'product-B', quantity: 1 },
        ],
      },
      missing: [{ product_code: 'product-B', requested: 1, available: 0 }],
    });
  });

  it('sums repeated lines of one product before checking', () => {
    const order = pricedOrder([
      { product_code: 'product-A', quantity: 2 },
      { product_code: 'product-A', quantity: 2 },
    ]);
    expect(reserveStock(order, undefined, available({ 'product-A': 3 })).outcome).toBe('out_of_stock');
  });

  it('leaves an order with any reservation row alone (a duplicate, or a cancellation that came first)', () => {
    const order = pricedOrder([{ product_code: 'product-A', quantity: 1 }]);
    for (const status of ['reserved', 'cancelled', 'released'] as const) {
      expect(reserveStock(order, { status, items: [] }, available({ 'product-A': 9 }))).toEqual({
        outcome: 'nothing_to_do',
      });
    }
  });

  it('releases or sells only a live reservation, and marks a cancellation that came first', () => {
    const order = pricedOrder([{ product_code: 'product-A', quantity: 1 }]);
    const reserved = { status: 'reserved' as const, items: [{ product_code: 'product-A', quantity: 1 }] };
    expect(releaseStock(order, reserved)).toMatchObject({
      outcome: 'released',
      movement: { kind: 'release' },
    });
    expect(sellStock(order, reserved)).toMatchObject({ outcome: 'sold', movement: { kind: 'sell' } });
    expect(releaseStock(order, { ...reserved, status: 'sold' })).toEqual({ outcome: 'nothing_to_do' });
    expect(sellStock(order, undefined)).toEqual({ outcome: 'nothing_to_do' });
    expect(releaseStock(order, undefined)).toMatchObject({
      outcome: 'cancelled_before_reservation',
      reservation: { status: 'cancelled' },
    });
  });

  it('moves quantities between counters without creating or destroying any (SPEC §4.4)', () => {
    const levels = new Map<string, StockCounters>([['p', { available: 10, reserved: 0, sold: 0 }]]);
    const changes = new Map<string, StockCounters>();
    const items = [{ product_code: 'p', quantity: 3 }];
    applyMovement(levels, changes, { kind: 'reserve', items });
    applyMovement(levels, changes, { kind: 'sell', items });
    applyMovement(levels, changes, { kind: 'reserve', items });
    applyMovement(levels, changes, { kind: 'release', items });
    expect(levels.get('p')).toEqual({ available: 7, reserved: 0, sold: 3 });
    expect(changes.get('p')).toEqual({ available: -3, reserved: 0, sold: 3 });
    const total = (c: StockCounters | undefined) => (c ? c.available + c.reserved + c.sold : Number.NaN);
    expect(total(levels.get('p'))).toBe(10);
  });
});

describe('shortages', () => {
  it('names each product an order wants more of than is available, with both quantities', () => {
    const items = [
      { product_code: 'a', quantity: 3 },
      { product_code: 'b', quantity: 1 },
      { product_code: 'c', quantity: 2 },
    ];
    expect(shortages(items, available({ a: 3, b: 0 }))).toEqual([
      { product_code: 'b', requested: 1, available: 0 },
      { product_code: 'c', requested: 2, available: 0 },
    ]);
    expect(shortages(items, available({ a: 3, b: 1, c: 5 }))).toEqual([]);
  });
});

// Issue 24: the stock rules as one decider. Each row: an order's stock and an event → the changes decided
// → the stock they leave, which is what reserveStock/releaseStock/sellStock and applyMovement make of it.
describe('the stock decider', () => {
  const order = pricedOrder([
    { product_code: 'product-A', quantity: 2 },
    { product_code: 'product-B', quantity: 1 },
  ]);
  const ITEMS = [
    { product_code: 'product-A', quantity: 2 },
    { product_code: 'product-B', quantity: 1 },
  ];
  const levels = (a: StockCounters, b: StockCounters) =>
    new Map([
      ['product-A', a],
      ['product-B', b],
    ]);
  const FULL = levels({ available: 5, reserved: 0, sold: 0 }, { available: 5, reserved: 0, sold: 0 });
  const TAKEN = levels({ available: 3, reserved: 2, sold: 0 }, { available: 4, reserved: 1, sold: 0 });
  const SOLD = levels({ available: 3, reserved: 0, sold: 2 }, { available: 4, reserved: 0, sold: 1 });
  const SHORT = levels({ available: 5, reserved: 0, sold: 0 }, { available: 0, reserved: 0, sold: 0 });
  const reservation = (status: Reservation['status']): Reservation => ({ status, items: ITEMS });
  const stock = (r: Reservation | undefined, l: ReadonlyMap<string, StockCounters>): OrderStock => ({
    reservation: r,
    levels: l,
  });
  const written = (status: Reservation['status']): StockChange => ({
    kind: 'reservation',
    reservation: reservation(status),
  });
  const moved = (movement: 'reserve' | 'release' | 'sell'): StockChange => ({
    kind: 'movement',
    movement,
    items: ITEMS,
  });

  it.each<{
    name: string;
    state: OrderStock;
    input: StockInput['kind'];
    outcome: string;
    changes: StockChange[];
    after: OrderStock;
  }>([
    {
      name: 'order.created, enough of everything: reserved, then taken from available',
      state: stock(undefined, FULL),
      input: 'reserve',
      outcome: 'reserved',
      changes: [written('reserved'), moved('reserve')],
      after: stock(reservation('reserved'), TAKEN),
    },
    {
      name: 'order.created, one product short: rejected, no stock moved',
      state: stock(undefined, SHORT),
      input: 'reserve',
      outcome: 'out_of_stock',
      changes: [written('rejected')],
      after: stock(reservation('rejected'), SHORT),
    },
    {
      name: 'order.created after a cancellation: its mark wins, nothing reserved',
      state: stock(reservation('cancelled'), FULL),
      input: 'reserve',
      outcome: 'nothing_to_do',
      changes: [],
      after: stock(reservation('cancelled'), FULL),
    },
    {
      name: 'order.cancelled of a reservation: released, back to available',
      state: stock(reservation('reserved'), TAKEN),
      input: 'release',
      outcome: 'released',
      changes: [written('released'), moved('release')],
      after: stock(reservation('released'), FULL),
    },
    {
      name: 'order.cancelled before order.created: a mark, no stock moved',
      state: stock(undefined, FULL),
      input: 'release',
      outcome: 'cancelled_before_reservation',
      changes: [written('cancelled')],
      after: stock(reservation('cancelled'), FULL),
    },
    {
      name: 'order.cancelled of a rejected order: nothing to give back',
      state: stock(reservation('rejected'), SHORT),
      input: 'release',
      outcome: 'nothing_to_do',
      changes: [],
      after: stock(reservation('rejected'), SHORT),
    },
    {
      name: 'order.completed of a reservation: sold',
      state: stock(reservation('reserved'), TAKEN),
      input: 'sell',
      outcome: 'sold',
      changes: [written('sold'), moved('sell')],
      after: stock(reservation('sold'), SOLD),
    },
    {
      name: 'order.completed twice: sold once',
      state: stock(reservation('sold'), SOLD),
      input: 'sell',
      outcome: 'nothing_to_do',
      changes: [],
      after: stock(reservation('sold'), SOLD),
    },
  ])('$name', ({ state, input, outcome, changes, after }) => {
    const decided = stockDecider.decide(state, { kind: input, order });
    expect(decided.outcome).toBe(outcome);
    expect(decided.changes).toEqual(changes);
    const evolved = evolveAll(stockDecider, state, decided.changes);
    expect(evolved).toEqual(after);

    // What the existing rules decide, applied as the use case applies them.
    const available = new Map([...state.levels].map(([code, level]) => [code, level.available]));
    const RULES: Record<StockInput['kind'], () => StockDecision> = {
      reserve: () => reserveStock(order, state.reservation, available),
      release: () => releaseStock(order, state.reservation),
      sell: () => sellStock(order, state.reservation),
    };
    const legacy = RULES[input]();
    const levelsAfter = new Map(state.levels);
    if (legacy.movement) applyMovement(levelsAfter, new Map(), legacy.movement);
    expect(evolved).toEqual({ reservation: legacy.reservation ?? state.reservation, levels: levelsAfter });
    expect(decided.missing).toEqual(legacy.missing);
    // Stock moves between counters, never made or lost (SPEC §4.4).
    const total = (l: ReadonlyMap<string, StockCounters>) =>
      [...l.values()].reduce((sum, c) => sum + c.available + c.reserved + c.sold, 0);
    expect(total(evolved.levels)).toBe(total(state.levels));
  });

  it('starts from no reservation and no counters, a fresh state each time', () => {
    const initial = initialStateOf(stockDecider);
    expect(initial).toEqual({ reservation: undefined, levels: new Map() });
    expect(initialStateOf(stockDecider).levels).not.toBe(initial.levels);
    expect(stockDecider.decide(initial, { kind: 'reserve', order })).toMatchObject({
      outcome: 'out_of_stock',
      missing: [
        { product_code: 'product-A', requested: 2, available: 0 },
        { product_code: 'product-B', requested: 1, available: 0 },
      ],
    });
  });

  it('keeps the items of a reservation it changes, as the upsert does, and leaves the state it evolves alone', () => {
    const before = stock({ status: 'reserved', items: [{ product_code: 'product-A', quantity: 2 }] }, TAKEN);
    const after = stockDecider.evolve(before, written('released'));
    expect(after.reservation).toEqual({
      status: 'released',
      items: [{ product_code: 'product-A', quantity: 2 }],
    });
    stockDecider.evolve(before, moved('release'));
    expect(before.levels).toBe(TAKEN);
    expect(TAKEN.get('product-A')).toEqual({ available: 3, reserved: 2, sold: 0 });
  });
});
