import { describe, expect, it } from 'vitest';
import { priceOrder, type Answers } from '../src/enrichment/price-order.js';
import type { Lookup } from '../src/enrichment/guarded-calls.js';
import type { Product } from '../src/enrichment/third-parties.client.js';
import type { Order } from '../src/orders/order.js';

const order = (items: [string, number][], requestedTotal: number | null = null): Order => ({
  id: '6f7c1f0e-93b8-4a55-9a57-1b1f2c3d4e5f',
  user_id: 'customer-123',
  status: 'PENDING',
  reason: null,
  items: items.map(([code, quantity]) => ({
    product_code: code,
    quantity,
    product_name: null,
    unit_price: null,
  })),
  customer_fullname: null,
  total_amount: null,
  requested_total_amount: requestedTotal,
  version: 1,
  priced_at: null,
  trace_context: null,
  created_at: new Date('2026-11-30T10:00:00Z'),
  updated_at: new Date('2026-11-30T10:00:00Z'),
});

const found = <T>(value: T): Lookup<T> => ({ kind: 'found', value });
const GRACE = found({ id: 'customer-123', firstName: 'Grace', lastName: 'Hopper' });
const product = (code: string, price: number): [string, Lookup<Product>] => [
  code,
  found({ code, name: `Product ${code}`, price }),
];
const answers = (user: Answers['user'], ...products: [string, Lookup<Product>][]): Answers => ({
  user,
  products: new Map(products),
});

describe('pricing an order (SPEC §2)', () => {
  it('prices every item and totals in cents, so 0.1 + 0.2 is 0.3', () => {
    const verdict = priceOrder(
      order([
        ['a', 1],
        ['b', 2],
      ]),
      answers(GRACE, product('a', 0.1), product('b', 0.1)),
    );
    expect(verdict).toEqual({
      kind: 'priced',
      customerFullname: 'Grace Hopper',
      items: [
        { product_code: 'a', quantity: 1, product_name: 'Product a', unit_price: 0.1 },
        { product_code: 'b', quantity: 2, product_name: 'Product b', unit_price: 0.1 },
      ],
      totalAmount: 0.3,
    });
  });

  it('accepts a client total equal to the cent, and cancels one that differs (total_mismatch)', () => {
    const priced = answers(GRACE, product('a', 49.99));
    expect(priceOrder(order([['a', 3]], 149.97), priced).kind).toBe('priced');
    expect(priceOrder(order([['a', 3]], 149.96), priced)).toEqual({
      kind: 'cancelled',
      reason: 'total_mismatch',
    });
  });

  it('cancels for a missing user or product whatever else is still unanswered', () => {
    const unavailable: Lookup<never> = { kind: 'unavailable', cause: 'timeout' };
    expect(priceOrder(order([['a', 1]]), answers({ kind: 'not_found' }, ['a', unavailable]))).toEqual({
      kind: 'cancelled',
      reason: 'user_not_found',
    });
    expect(
      priceOrder(
        order([
          ['a', 1],
          ['b', 1],
        ]),
        answers(unavailable, ['a', { kind: 'not_found' }]),
      ),
    ).toEqual({
      kind: 'cancelled',
      reason: 'product_not_found',
    });
  });

  it('stays undecided while an answer is missing, naming what to ask again', () => {
    const unavailable: Lookup<never> = { kind: 'unavailable', cause: 'timeout' };
    expect(
      priceOrder(
        order([
          ['a', 1],
          ['b', 1],
        ]),
        answers(GRACE, product('a', 1), ['b', unavailable]),
      ),
    ).toEqual({
      kind: 'undecided',
      unavailable: ['product b'],
    });
    expect(priceOrder(order([['a', 1]]), answers(unavailable, product('a', 1)))).toEqual({
      kind: 'undecided',
      unavailable: ['user customer-123'],
    });
  });
});
