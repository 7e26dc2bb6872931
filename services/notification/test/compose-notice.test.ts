import { describe, expect, it } from 'vitest';
import type { OrderSnapshot } from '@platform/contracts';
import { sagaEvent } from '@platform/testing';
import { composeNotice, NOTIFICATION_KINDS } from '../src/notifications/compose-notice.js';

const ORDER: OrderSnapshot = {
  order_id: 'o-1',
  user_id: 'customer-123',
  customer_fullname: 'Grace Hopper',
  product_name: 'Classic Box',
  total_amount: 29.9,
  created_at: '2026-11-30T10:00:00.000Z',
  items: [{ product_code: 'classic-box', product_name: 'Classic Box', quantity: 1, unit_price: 29.9 }],
};

describe('what the customer is told', () => {
  it('has a sentence for each of the five kinds of news, amounts with two decimals', () => {
    expect(NOTIFICATION_KINDS.sort()).toEqual([
      'order.cancelled',
      'order.completed',
      'payment.failed',
      'payment.processed',
      'payment.refunded',
    ]);
    const told = (notice: ReturnType<typeof composeNotice>) => [notice.kind, notice.message, notice.details];
    expect(told(composeNotice(sagaEvent('order.completed', ORDER)))).toEqual([
      'order.completed',
      'Your order o-1 is complete: Classic Box for 29.90',
      { product_name: 'Classic Box', total_amount: 29.9 },
    ]);
    expect(told(composeNotice(sagaEvent('order.cancelled', ORDER, { reason: 'out_of_stock' })))).toEqual([
      'order.cancelled',
      'Your order o-1 was cancelled: out_of_stock',
      { reason: 'out_of_stock' },
    ]);
    expect(
      told(
        composeNotice(sagaEvent('payment.processed', ORDER, { charge: { charge_id: 'ch_1', amount: 29.9 } })),
      ),
    ).toEqual(['payment.processed', 'We charged 29.90 for order o-1', { amount: 29.9, charge_id: 'ch_1' }]);
    expect(told(composeNotice(sagaEvent('payment.failed', ORDER, { reason: 'payment_failed' })))).toEqual([
      'payment.failed',
      'We could not charge your payment for order o-1: payment_failed',
      { reason: 'payment_failed' },
    ]);
    expect(
      told(composeNotice(sagaEvent('payment.refunded', ORDER, { refund: { refund_id: 're_1', amount: 5 } }))),
    ).toEqual(['payment.refunded', 'We refunded 5.00 for order o-1', { amount: 5, refund_id: 're_1' }]);
  });

  it('addresses the customer of the order, and leaves out a name and total the order does not have', () => {
    const notice = composeNotice(
      sagaEvent('order.completed', {
        ...ORDER,
        customer_fullname: null,
        product_name: null,
        total_amount: null,
      }),
    );
    expect(notice).toMatchObject({ order_id: 'o-1', recipient: 'customer-123', customer_fullname: null });
    expect(notice.message).toBe('Your order o-1 is complete');
    expect(notice.details).toEqual({});
  });
});
