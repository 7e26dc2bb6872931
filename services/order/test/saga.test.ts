import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FulfilmentEvents,
  InventoryEvents,
  OrderEvents,
  PaymentEvents,
  type OrderSnapshot,
  type SubscribedType,
} from '@platform/contracts';
import { sagaEvent, waitFor } from '@platform/testing';
import {
  createTestInfrastructure,
  get,
  post,
  startOrderService,
  type CapturedMessage,
  type TestOrderService,
} from './order-service.harness.js';

let infra: Awaited<ReturnType<typeof createTestInfrastructure>>;
let order: TestOrderService;
let emitted: CapturedMessage[];

beforeAll(async () => {
  infra = await createTestInfrastructure('order_saga');
  emitted = await infra.exchange.capture(['order.completed', 'order.cancelled']);
  order = await startOrderService({ ...infra, env: { SAGA_DEADLINE_MS: '60000' } });
  await order.service.consumer.ready;
});

afterAll(async () => {
  try {
    await order.service.stop();
  } finally {
    await infra.remove();
  }
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 400));
const emittedFor = (id: string) =>
  emitted.filter((message) => (message.body as { correlation_id: string }).correlation_id === id);

async function placeOrder(baseUrl = order.baseUrl): Promise<OrderSnapshot> {
  const response = await post(`${baseUrl}/orders`, {
    user_id: 'customer-123',
    items: [{ product_code: 'product-A', quantity: 1 }],
  });
  expect(response.status).toBe(201);
  return {
    order_id: response.body.id as string,
    user_id: 'customer-123',
    customer_fullname: 'Grace Hopper',
    product_name: 'Product A',
    total_amount: 50,
    created_at: new Date().toISOString(),
    items: [{ product_code: 'product-A', product_name: 'Product A', quantity: 1, unit_price: 50 }],
  };
}

const publish = (type: SubscribedType<'order'>, snapshot: OrderSnapshot) => {
  const event = sagaEvent(type, snapshot);
  return infra.exchange.publish(type, event).then(() => event);
};

async function statusOf(id: string, baseUrl = order.baseUrl) {
  return (await get(`${baseUrl}/orders/${id}`)).body as {
    status: string;
    reason: string | null;
    timeline: { step: string; at: string; reason?: string; after_final?: boolean }[];
  };
}

describe('the order state machine (SPEC §2)', () => {
  it('completes on fulfilment.placed, emits order.completed once, and shows each step in the timeline', async () => {
    const snapshot = await placeOrder();
    // Only the event that decides the order reaches the order service; it brings the steps before it.
    const placed = await publish(FulfilmentEvents.placed, snapshot);
    await infra.exchange.publish(FulfilmentEvents.placed, placed); // a duplicate delivery
    await waitFor('completed', async () => (await statusOf(snapshot.order_id)).status === 'COMPLETED');
    // The event follows the commit through the outbox; wait for it, then leave room for a duplicate.
    await waitFor('announced', () => emittedFor(snapshot.order_id).length > 0);
    await settle();
    expect(emittedFor(snapshot.order_id).map((m) => m.routingKey)).toEqual([OrderEvents.completed]);
    const { timeline } = await statusOf(snapshot.order_id);
    expect(timeline.map((entry) => entry.step)).toEqual([
      'placed',
      'stock_reserved',
      'paid',
      'fulfilment_placed',
      'completed',
    ]);
    // Each step at the time it happened where it was taken (the events' `steps`), not when it was recorded.
    const at = (seconds: number) => new Date(Date.parse(snapshot.created_at) + seconds * 1000).toISOString();
    expect(timeline.slice(1, 4).map((entry) => new Date(entry.at).toISOString())).toEqual([
      at(1),
      at(2),
      at(3),
    ]);
    for (const entry of timeline) expect(Date.parse(entry.at)).not.toBeNaN();
  });

  it.each([
    [InventoryEvents.unavailable, 'out_of_stock'],
    [PaymentEvents.failed, 'payment_failed'],
    [FulfilmentEvents.failed, 'placement_failed'],
  ])('cancels on %s with reason %s and announces it once', async (type, reason) => {
    const snapshot = await placeOrder();
    const event = await publish(type, snapshot);
    await infra.exchange.publish(type, event);
    await waitFor('cancelled', async () => (await statusOf(snapshot.order_id)).status === 'CANCELLED');
    await waitFor('announced', () => emittedFor(snapshot.order_id).length > 0);
    await settle();
    expect((await statusOf(snapshot.order_id)).reason).toBe(reason);
    const announced = emittedFor(snapshot.order_id);
    expect(announced.map((m) => m.routingKey)).toEqual([OrderEvents.cancelled]);
    expect((announced[0]?.body as { payload: { reason: string } }).payload.reason).toBe(reason);
  });

  it('records a late fulfilment.placed after a cancellation without acting on it', async () => {
    const snapshot = await placeOrder();
    expect((await post(`${order.baseUrl}/orders/${snapshot.order_id}/cancel`)).status).toBe(200);
    const late = await publish(FulfilmentEvents.placed, snapshot);
    await infra.exchange.publish(FulfilmentEvents.placed, late); // a duplicate delivery
    await waitFor('late steps recorded', async () =>
      (await statusOf(snapshot.order_id)).timeline.some((entry) => entry.step === 'fulfilment_placed'),
    );
    await settle();
    const view = await statusOf(snapshot.order_id);
    expect(view).toMatchObject({ status: 'CANCELLED', reason: 'customer_request' });
    // Its steps, each once, marked as reported after the order was final.
    expect(view.timeline.filter((entry) => entry.after_final).map((entry) => entry.step)).toEqual([
      'stock_reserved',
      'paid',
      'fulfilment_placed',
    ]);
    await waitFor('announced', () => emittedFor(snapshot.order_id).length > 0);
    await settle();
    // One order.cancelled (from the customer), no order.completed.
    expect(emittedFor(snapshot.order_id).map((m) => m.routingKey)).toEqual([OrderEvents.cancelled]);
  });
});

describe('saga metrics', () => {
  it('exposes the orders in flight and the age of the oldest on /metrics', async () => {
    await placeOrder();
    const [db] = await order.sql<{ n: number; age: number }>(
      `SELECT count(*)::int AS n, extract(epoch FROM now() - min(created_at))::float8 AS age
         FROM orders WHERE status = 'PENDING'`,
    );
    const metrics = await (await fetch(`${order.baseUrl}/metrics`)).text();
    const value = (name: string) =>
      Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(value('orders_in_flight')).toBe(db?.n);
    expect(value('orders_oldest_in_flight_age_seconds')).toBeGreaterThanOrEqual(db?.age ?? Infinity);
  });
});

describe('the saga deadline', () => {
  it('cancels an order still PENDING after the deadline with reason timeout, across a restart', async () => {
    const deadlineEnv = { SAGA_DEADLINE_MS: '1500', SAGA_SWEEP_INTERVAL_MS: '100' };
    // A second instance on the same database and exchange, stopped before the deadline passes.
    const first = await startOrderService({ ...infra, env: deadlineEnv });
    const snapshot = await placeOrder(first.baseUrl);
    await first.service.stop();
    expect((await statusOf(snapshot.order_id)).status).toBe('PENDING');

    await new Promise((resolve) => setTimeout(resolve, 1600));
    const second = await startOrderService({ ...infra, env: deadlineEnv });
    try {
      await waitFor('timed out', async () => (await statusOf(snapshot.order_id)).status === 'CANCELLED');
      expect((await statusOf(snapshot.order_id)).reason).toBe('timeout');
      await waitFor('announced', () => emittedFor(snapshot.order_id).length === 1);
      expect((emittedFor(snapshot.order_id)[0]?.body as { payload: { reason: string } }).payload.reason).toBe(
        'timeout',
      );
      // A step reported after the timeout changes nothing.
      await publish(FulfilmentEvents.placed, snapshot);
      await waitFor('late step recorded', async () =>
        (await statusOf(snapshot.order_id)).timeline.some((entry) => entry.step === 'fulfilment_placed'),
      );
      expect((await statusOf(snapshot.order_id)).status).toBe('CANCELLED');
    } finally {
      await second.service.stop();
    }
  });
});
