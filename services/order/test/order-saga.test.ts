import { describe, expect, it } from 'vitest';
import { FulfilmentEvents, InventoryEvents, PaymentEvents } from '@platform/contracts';
import type { Order } from '../src/orders/order.js';
import { sagaTransition } from '../src/saga/order-saga.js';

const order = (status: Order['status']): Order => ({
  id: '6f7c1f0e-93b8-4a55-9a57-1b1f2c3d4e5f',
  user_id: 'customer-123',
  status,
  reason: status === 'CANCELLED' ? 'customer_request' : null,
  items: [{ product_code: 'product-A', quantity: 1, product_name: 'Product A', unit_price: 50 }],
  customer_fullname: 'Grace Hopper',
  total_amount: 50,
  requested_total_amount: null,
  timeline: [],
  created_at: new Date('2026-11-30T00:00:00Z'),
  updated_at: new Date('2026-11-30T00:00:00Z'),
});

describe('the order state machine', () => {
  it('records steps that move nothing, completes on the placement, cancels on a failure with its reason', () => {
    expect(sagaTransition(InventoryEvents.reserved, order('PENDING'))).toEqual({
      outcome: 'recorded',
      status: 'PENDING',
      reason: null,
      entries: [{ step: 'stock_reserved' }],
    });
    const completed = sagaTransition(FulfilmentEvents.placed, order('PENDING'));
    expect(completed).toMatchObject({
      outcome: 'completed',
      status: 'COMPLETED',
      entries: [{ step: 'fulfilment_placed' }, { step: 'completed' }],
      event: { type: 'order.completed' },
    });
    expect(sagaTransition(PaymentEvents.failed, order('PENDING'))).toMatchObject({
      outcome: 'cancelled',
      status: 'CANCELLED',
      reason: 'payment_failed',
      entries: [{ step: 'cancelled', reason: 'payment_failed' }],
      event: { type: 'order.cancelled', payload: { reason: 'payment_failed' } },
    });
    expect(sagaTransition(InventoryEvents.unavailable, order('PENDING'))?.reason).toBe('out_of_stock');
    expect(sagaTransition(FulfilmentEvents.failed, order('PENDING'))?.reason).toBe('placement_failed');
  });

  it('marks a step reported after the order was final, and acts on it no further', () => {
    for (const type of [PaymentEvents.processed, FulfilmentEvents.placed, PaymentEvents.failed]) {
      const transition = sagaTransition(type, order('CANCELLED'));
      expect(transition).toMatchObject({
        outcome: 'after_final',
        status: 'CANCELLED',
        reason: 'customer_request',
      });
      expect(transition?.event).toBeUndefined();
      expect(transition?.entries[0]?.after_final).toBe(true);
    }
  });

  it('records a refund after a cancellation as expected, not late', () => {
    expect(sagaTransition(PaymentEvents.refunded, order('CANCELLED'))).toEqual({
      outcome: 'recorded',
      status: 'CANCELLED',
      reason: 'customer_request',
      entries: [{ step: 'refunded' }],
    });
  });

  it('knows no transition for an order it does not have', () => {
    expect(sagaTransition(PaymentEvents.processed, undefined)).toBeUndefined();
  });
});
