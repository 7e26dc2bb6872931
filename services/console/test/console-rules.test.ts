import { describe, expect, it } from 'vitest';
import type { DeadLetter } from '@platform/messaging';
import { findLetters, groupByError } from '../src/dead-letters/dead-letter-groups.js';
import { parsePrometheusText, sumOf } from '../src/overview/prometheus-text.js';
import { safeNext } from '../src/session/login.routes.js';
import { stepsInFlight } from '../src/orders/orders.routes.js';

const letter = (id: string, error: string | undefined, at?: string, order = 'o-1'): DeadLetter => ({
  messageId: id,
  correlationId: order,
  routingKey: 'order.created',
  attempts: 5,
  lastError: error,
  deadLetteredAt: at,
  discardedAt: undefined,
  headers: {},
  body: '{}',
});

describe('dead letters grouped by error', () => {
  it('counts each error, with its first and last time, the largest group first', () => {
    const groups = groupByError([
      letter('a', 'timeout', '2026-11-30T10:00:00.000Z'),
      letter('b', 'bad data', '2026-11-30T09:00:00.000Z'),
      letter('c', 'timeout', '2026-11-30T08:00:00.000Z'),
      letter('d', undefined),
    ]);
    expect(groups.map((group) => [group.error, group.count])).toEqual([
      ['timeout', 2],
      ['bad data', 1],
      ['(no error recorded)', 1],
    ]);
    expect(groups[0]).toMatchObject({
      firstAt: '2026-11-30T08:00:00.000Z',
      lastAt: '2026-11-30T10:00:00.000Z',
    });
    expect(groups[0]?.letters.map((l) => l.messageId)).toEqual(['a', 'c']);
  });

  it('finds letters by message id or by order id', () => {
    const letters = [letter('a', 'x', undefined, 'o-1'), letter('b', 'x', undefined, 'o-2')];
    expect(findLetters(letters, 'b').map((l) => l.messageId)).toEqual(['b']);
    expect(findLetters(letters, 'o-1').map((l) => l.messageId)).toEqual(['a']);
    expect(findLetters(letters, ' ')).toHaveLength(2);
    expect(findLetters(letters, 'nothing')).toEqual([]);
  });
});

describe('Prometheus text', () => {
  it('parses samples with labels, skipping comments, and sums by label', () => {
    const samples = parsePrometheusText(
      [
        '# HELP order_duration_seconds Placement to final',
        'order_duration_seconds_count{outcome="completed",reason="none",service="order"} 7',
        'order_duration_seconds_count{outcome="cancelled",reason="out_of_stock",service="order"} 2',
        'order_duration_seconds_count{outcome="cancelled",reason="timeout",service="order"} 1',
        'orders_in_flight{service="order"} 3',
        'weird{label="with \\"quote\\""} 1.5',
        'not a sample',
      ].join('\n'),
    );
    expect(sumOf(samples, 'order_duration_seconds_count')).toBe(10);
    expect(sumOf(samples, 'order_duration_seconds_count', { outcome: 'cancelled' })).toBe(3);
    expect(sumOf(samples, 'orders_in_flight')).toBe(3);
    expect(samples.find((s) => s.name === 'weird')?.labels.label).toBe('with "quote"');
    expect(sumOf(samples, 'absent')).toBe(0);
  });
});

describe('where a login leads', () => {
  it('to a path of the console only, never to another site', () => {
    expect(safeNext('/orders?q=abc')).toBe('/orders?q=abc');
    expect(safeNext('/dead-letters/inventory')).toBe('/dead-letters/inventory');
    for (const offSite of [
      '//evil.example',
      '/\\evil.example',
      '/\t/evil.example',
      'https://evil.example',
      'evil',
      '',
      42,
    ]) {
      expect(safeNext(offSite), JSON.stringify(offSite)).toBe('/');
    }
  });
});

describe('the steps of an order in flight', () => {
  const history = [{ position: 1, step: 'placed', at: '2026-12-06T10:00:00.000Z', event_id: null }];
  const reservation = {
    status: 'reserved',
    items: [{ product_code: 'classic-box', quantity: 1 }],
    created_at: '2026-12-06T10:00:00.100Z',
    updated_at: '2026-12-06T10:00:00.100Z',
  };
  const payment = {
    status: 'charged',
    amount: 9.99,
    attempts: 2,
    charge: { charge_id: 'ch_1', amount: 9.99 },
    refund: null,
    history: [
      {
        step: 'charge',
        outcome: 'retry',
        error: 'HTTP 503',
        reference: null,
        at: '2026-12-06T10:00:00.200Z',
      },
      { step: 'charge', outcome: 'charged', error: null, reference: 'ch_1', at: '2026-12-06T10:00:01.200Z' },
    ],
  };

  it('reads the steps the order service has not heard of yet from the services that took them', () => {
    expect(stepsInFlight(history, { reservation, payment })).toEqual([
      { step: 'stock_reserved', at: reservation.created_at, from: 'inventory' },
      {
        step: 'paid',
        at: '2026-12-06T10:00:01.200Z',
        from: 'payment',
        data: { charge_id: 'ch_1', amount: 9.99 },
      },
    ]);
  });

  it('shows nothing twice: a step already in the history, a released reservation or a charge not made', () => {
    const recorded = [
      ...history,
      { position: 2, step: 'stock_reserved', at: reservation.created_at, event_id: 'e' },
    ];
    expect(stepsInFlight(recorded, { reservation })).toEqual([]);
    expect(stepsInFlight(history, { reservation: { ...reservation, status: 'rejected' } })).toEqual([]);
    expect(stepsInFlight(history, { payment: { ...payment, charge: null, history: [] } })).toEqual([]);
  });
});
