import { describe, expect, it } from 'vitest';
import { judge, type Observations, type ObservedOrder } from '../src/chaos/checks.js';
import { parseFaults } from '../src/chaos/faults.js';
import { metricValue } from '../src/chaos/system-probes.js';

const completed = (id: string, total: number, product = 'classic-box'): ObservedOrder => ({
  id,
  status: 'COMPLETED',
  reason: null,
  total_amount: total,
  items: [{ product_code: product, quantity: 1 }],
});
const cancelled = (id: string): ObservedOrder => ({
  id,
  status: 'CANCELLED',
  reason: 'out_of_stock',
  total_amount: 9.99,
  items: [{ product_code: 'classic-box', quantity: 1 }],
});

const RABBITMQ_KILLED = {
  kind: 'rabbitmq' as const,
  description: 'kill -9 RabbitMQ',
  startedAt: 0,
  endedAt: 1,
  recoveries: [{ what: 'outbox backlog empty', ms: 1200 }],
};

/** A run where everything held: two orders, one completed (charged 9.99, one unit sold), one cancelled. */
function healthy(): Observations {
  return {
    acceptedIds: ['a', 'b'],
    orders: [completed('a', 9.99), cancelled('b')],
    charges: new Map([
      ['a', { charge: { amount: 9.99 }, refund: null }],
      ['b', { charge: { amount: 9.99 }, refund: { amount: 9.99 } }],
    ]),
    notificationKinds: new Map([
      ['a', ['payment.processed', 'order.completed']],
      ['b', ['order.cancelled']],
    ]),
    stockBefore: [{ product_code: 'classic-box', available: 100, reserved: 0, sold: 0 }],
    stockAfter: [{ product_code: 'classic-box', available: 99, reserved: 0, sold: 1 }],
    deadLetters: [],
    faults: [RABBITMQ_KILLED],
  };
}

const violated = (observed: Observations) =>
  judge(observed)
    .filter((check) => !check.ok)
    .map((check) => [check.name, check.violations]);

describe('the chaos run’s checks (SPEC §4)', () => {
  it('hold on a run where everything held', () => {
    expect(violated(healthy())).toEqual([]);
  });

  it('find an accepted order that is missing or still pending', () => {
    const observed = { ...healthy(), acceptedIds: ['a', 'b', 'c'] };
    observed.orders = [completed('a', 9.99), { ...cancelled('b'), status: 'PENDING' as const }];
    expect(violated(observed)).toContainEqual([
      'every order final',
      ['order c was accepted (201) but is not stored', 'order b is still PENDING'],
    ]);
  });

  it('find a double charge, a charge left on a cancelled order, and a completed order not charged', () => {
    const observed = healthy();
    observed.orders = [completed('a', 9.99), cancelled('b'), completed('c', 5)];
    observed.charges = new Map([
      ['a', { charge: { amount: 19.98 }, refund: null }],
      ['b', { charge: { amount: 9.99 }, refund: null }],
    ]);
    observed.stockAfter = [{ product_code: 'classic-box', available: 98, reserved: 0, sold: 2 }];
    expect(violated(observed)).toEqual([
      [
        'net charge exact',
        [
          'order a COMPLETED: net charge 19.98, expected 9.99',
          'order b CANCELLED: net charge 9.99, expected 0',
          'order c COMPLETED: net charge 0, expected 5',
        ],
      ],
    ]);
  });

  it('find a duplicate notification', () => {
    const observed = healthy();
    observed.notificationKinds = new Map([['a', ['order.completed', 'order.completed']]]);
    expect(violated(observed)).toEqual([
      ['one notification per (order, kind)', ['order a: two order.completed notifications']],
    ]);
  });

  it('find stock created, left reserved, or sold without a completed order', () => {
    const observed = healthy();
    observed.stockAfter = [{ product_code: 'classic-box', available: 99, reserved: 1, sold: 2 }];
    expect(violated(observed)).toEqual([
      [
        'stock conserved',
        [
          'classic-box: available + reserved + sold = 102, was 100',
          'classic-box: 1 still reserved',
          'classic-box: 2 sold, but completed orders hold 1',
        ],
      ],
    ]);
  });

  it('list each dead letter with its reason, and each recovery that never happened', () => {
    const observed = healthy();
    observed.deadLetters = [
      { service: 'payment', routingKey: 'inventory.reserved', orderId: 'a', lastError: 'boom' },
    ];
    observed.faults = [{ ...RABBITMQ_KILLED, recoveries: [{ what: 'queue flowing', ms: null }] }];
    expect(violated(observed)).toEqual([
      ['no dead letters', ['payment: inventory.reserved of order a: boom']],
      ['recovered from every fault', ['kill -9 RabbitMQ: queue flowing never happened']],
    ]);
  });
});

describe('metricValue', () => {
  const text = [
    '# HELP events_consumed_total Events consumed',
    '# TYPE events_consumed_total counter',
    'events_consumed_total{type="order.created",outcome="handled"} 5',
    'events_consumed_total{type="order.cancelled",outcome="handled"} 2',
    'events_consumed_total{type="order.created",outcome="retried"} 7',
    'events_consumed_total_extra 100',
    'outbox_oldest_unpublished_age_seconds 0.25',
  ].join('\n');

  it('sums the samples of a metric, keeping those with a label when asked', () => {
    expect(metricValue(text, 'events_consumed_total')).toBe(14);
    expect(metricValue(text, 'events_consumed_total', { labelFilter: 'outcome="handled"' })).toBe(7);
    expect(metricValue(text, 'outbox_oldest_unpublished_age_seconds', { aggregate: 'max' })).toBe(0.25);
    expect(metricValue(text, 'absent_metric')).toBe(0);
  });
});

describe('parseFaults', () => {
  it('reads a list of faults and refuses an unknown one by name', () => {
    expect(parseFaults('rabbitmq, order,third-parties')).toEqual(['rabbitmq', 'order', 'third-parties']);
    expect(() => parseFaults('rabbitmq,kafka')).toThrow(/unknown fault "kafka"/);
  });
});
