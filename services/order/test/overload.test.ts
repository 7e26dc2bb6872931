import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@platform/testing';
import {
  createTestInfrastructure,
  post,
  startOrderService,
  type TestOrderService,
} from './order-service.harness.js';

const body = { user_id: 'customer-123', items: [{ product_code: 'product-A', quantity: 1 }] };

describe('admission control (SPEC §4.9)', () => {
  let infra: Awaited<ReturnType<typeof createTestInfrastructure>>;
  let order: TestOrderService;

  beforeAll(async () => {
    infra = await createTestInfrastructure('order_overload');
    // Intake-only: orders stay PENDING, so they stay in flight until the test cancels them.
    order = await startOrderService({ ...infra, env: { ORDER_MAX_IN_FLIGHT: '3' } });
  });
  afterAll(async () => {
    await order.service.stop();
    await infra.remove();
  });

  const storedOrders = async () =>
    Number((await order.sql<{ n: string }>('SELECT count(*) AS n FROM orders'))[0]?.n);
  const refreshed = () => new Promise((resolve) => setTimeout(resolve, 150));

  it('refuses with 503 and Retry-After past the bound of orders in flight, storing nothing, and admits again once orders are final', async () => {
    const accepted: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const response = await post(`${order.baseUrl}/orders`, body);
      expect(response.status).toBe(201);
      accepted.push(response.body.id as string);
      await refreshed();
    }
    const refused = await post(`${order.baseUrl}/api/orders`, body);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.body.message).toMatch(/limit of orders in flight/);
    expect(await storedOrders()).toBe(3);

    // A final order is no longer in flight: room for exactly one more (the count is re-read in the
    // background, so the first tries may still be refused).
    expect((await post(`${order.baseUrl}/orders/${accepted[0] ?? ''}/cancel`)).status).toBe(200);
    await waitFor(
      'an order admitted again',
      async () => (await post(`${order.baseUrl}/orders`, body)).status === 201,
    );
    await refreshed();
    expect((await post(`${order.baseUrl}/orders`, body)).status).toBe(503);
    expect(await storedOrders()).toBe(4);

    const metrics = await (await fetch(`${order.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^orders_in_flight_limit\{[^}]*\} 3$/m);
    expect(metrics).toMatch(/^orders_refused_total\{[^}]*reason="orders_in_flight"[^}]*\} [1-9]/m);
  });
});

describe('a bounded intake queue', () => {
  let infra: Awaited<ReturnType<typeof createTestInfrastructure>>;
  let order: TestOrderService;

  beforeAll(async () => {
    infra = await createTestInfrastructure('order_intake_queue');
    order = await startOrderService({
      ...infra,
      env: {
        ORDER_INTAKE_MAX_QUEUED: '2',
        ORDER_INTAKE_MAX_BATCH: '2',
        ORDER_INTAKE_MAX_CONCURRENT_BATCHES: '1',
      },
    });
  });
  afterAll(async () => {
    await order.service.stop();
    await infra.remove();
  });

  it('answers 503 at once to what would wait behind a full queue, and stores exactly the 201s', async () => {
    const responses = await Promise.all(
      Array.from({ length: 40 }, () => post(`${order.baseUrl}/orders`, body)),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status !== 201 && status !== 503)).toEqual([]);
    expect(statuses).toContain(503);
    expect(statuses).toContain(201);
    const created = responses.filter((response) => response.status === 201).map((r) => r.body.id as string);
    const stored = (await order.sql<{ id: string }>('SELECT id FROM orders')).map((row) => row.id);
    expect(stored.sort()).toEqual(created.sort());
    for (const refused of responses.filter((response) => response.status === 503)) {
      expect(refused.headers.get('retry-after')).toBe('1');
    }
  });
});
