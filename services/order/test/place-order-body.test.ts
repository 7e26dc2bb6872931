import { describe, expect, it } from 'vitest';
import {
  toPlaceOrderCommand,
  validatePlaceOrderBody,
  type PlaceOrderBody,
} from '../src/orders/place-order.body.js';

describe('the three body shapes normalise to one command', () => {
  const cases: [string, PlaceOrderBody, ReturnType<typeof toPlaceOrderCommand>][] = [
    [
      'canonical',
      { user_id: 'u', items: [{ product_code: 'classic-box', quantity: 2 }] },
      { userId: 'u', items: [{ productCode: 'classic-box', quantity: 2 }], requestedTotal: null },
    ],
    [
      'seed 000 shorthand',
      { user_id: 'u', product_code: 'classic-box' },
      { userId: 'u', items: [{ productCode: 'classic-box', quantity: 1 }], requestedTotal: null },
    ],
    [
      'seed 002',
      { customer_id: 'c', items: [{ product_id: 'product-A', quantity: 2 }], total_amount: 100 },
      { userId: 'c', items: [{ productCode: 'product-A', quantity: 2 }], requestedTotal: 100 },
    ],
  ];
  for (const [name, body, command] of cases) {
    it(name, () => {
      expect(validatePlaceOrderBody(body)).toEqual([]);
      expect(toPlaceOrderCommand(body)).toEqual(command);
    });
  }

  it('validates a body against the shape its keys announce', () => {
    const problems = validatePlaceOrderBody({
      customer_id: 'c',
      items: [{ product_code: 'a', quantity: 1 }],
    });
    expect(problems.map((p) => `${p.instancePath} ${p.message}`)).toEqual(
      expect.arrayContaining(['/items/0/product_code is not a known field']),
    );
  });
});
