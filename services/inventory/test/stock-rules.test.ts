import { describe, expect, it } from 'vitest';
import {
  applyMovement,
  releaseStock,
  reserveStock,
  sellStock,
  shortages,
  type StockCounters,
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
