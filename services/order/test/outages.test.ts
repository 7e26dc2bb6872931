import { afterEach, describe, expect, it } from 'vitest';
import { startTcpProxy, TEST_RABBITMQ_URL as RABBITMQ_URL, waitFor, type TcpProxy } from '@platform/testing';
import {
  createTestInfrastructure,
  deliveriesById,
  get,
  post,
  startOrderService,
  type TestOrderService,
} from './order-service.harness.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function proxyTo(url: string): Promise<TcpProxy> {
  const target = new URL(url);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
  cleanups.push(() => proxy.close());
  return proxy;
}

async function setUp(prefix: string, through: 'rabbitmq' | 'postgres') {
  const infra = await createTestInfrastructure(prefix);
  cleanups.push(() => infra.remove());
  const proxy = await proxyTo(through === 'rabbitmq' ? RABBITMQ_URL : infra.database.url);
  const order: TestOrderService = await startOrderService({
    ...infra,
    ...(through === 'rabbitmq'
      ? { rabbitmqUrl: proxy.url(RABBITMQ_URL) }
      : { databaseUrl: proxy.url(infra.database.url) }),
  });
  cleanups.push(() => order.service.stop());
  return { infra, proxy, order };
}

const body = { user_id: '7c11e1ce2741', items: [{ product_code: 'classic-box', quantity: 1 }] };

describe('RabbitMQ unreachable', () => {
  it('keeps answering 201 and, once the path is back, publishes every order event exactly once', async () => {
    const { infra, proxy, order } = await setUp('broker_outage', 'rabbitmq');
    const received = await infra.exchange.capture(['order.cancelled']);
    await waitFor('readiness', async () => (await get(`${order.baseUrl}/health/ready`)).status === 200);
    // Each order placed and cancelled by its customer: the cancellation is an event to publish.
    const placeAndCancel = async () => {
      const placed = await post(`${order.baseUrl}/orders`, body);
      const cancelled = await post(`${order.baseUrl}/orders/${String(placed.body.id)}/cancel`);
      return { status: placed.status, cancelStatus: cancelled.status, body: placed.body };
    };
    const before = await placeAndCancel();
    await waitFor('the first event', () => received.length === 1);

    await proxy.cut();
    await waitFor(
      'the broker to be reported down',
      async () => (await get(`${order.baseUrl}/health/ready`)).status === 503,
    );
    const during = await Promise.all(Array.from({ length: 40 }, placeAndCancel));
    expect(during.map((r) => r.status)).toEqual(Array(40).fill(201));
    expect(during.map((r) => r.cancelStatus)).toEqual(Array(40).fill(200));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(received).toHaveLength(1);
    const waiting = await order.sql<{ n: string }>('SELECT count(*) AS n FROM outbox');
    expect(Number(waiting[0]?.n)).toBe(40);
    const metrics = await (await fetch(`${order.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^outbox_backlog_messages\{service="order"\} 40$/m);
    expect(metrics).toMatch(/^outbox_oldest_unpublished_age_seconds\{service="order"\} (0\.[1-9]|[1-9])/m);

    await proxy.restore();
    await waitFor('the backlog to flow', () => received.length >= 41, 20_000);
    await waitFor('all rows removed from the outbox', async () => {
      const rows = await order.sql<{ n: string }>('SELECT count(*) AS n FROM outbox');
      return Number(rows[0]?.n) === 0;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const deliveries = deliveriesById(received);
    expect([...deliveries.values()].every((n) => n === 1)).toBe(true);
    const orderIds = new Set(received.map((m) => (m.body as { correlation_id: string }).correlation_id));
    for (const response of [before, ...during]) expect(orderIds.has(response.body.id as string)).toBe(true);
    expect(received).toHaveLength(41);
  });
});

describe('PostgreSQL unreachable', () => {
  it("answers seed 001's exact 500 body, reports not ready, and recovers by itself", async () => {
    const { proxy, order } = await setUp('db_outage', 'postgres');
    expect((await post(`${order.baseUrl}/orders`, body)).status).toBe(201);

    await proxy.cut();
    const failed = await post(`${order.baseUrl}/orders`, body);
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ message: 'Internal server error while placing the order' });
    const ready = await get(`${order.baseUrl}/health/ready`);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ postgres: 'down' });
    const read = await get(`${order.baseUrl}/orders`);
    expect(read).toEqual({ status: 500, body: { message: 'Internal server error' } });

    await proxy.restore();
    const recovered = await waitFor('a 201 after recovery', async () => {
      const response = await post(`${order.baseUrl}/orders`, body);
      return response.status === 201 ? response : undefined;
    });
    expect(recovered.body.status).toBe('PENDING');
    const stored = await order.sql<{ n: string }>('SELECT count(*) AS n FROM orders');
    expect(Number(stored[0]?.n)).toBe(2);
    await waitFor('readiness', async () => (await get(`${order.baseUrl}/health/ready`)).status === 200);
  });
});

// Issue 22: a dependency that hangs (its socket open, nothing answered: a frozen process, a peer gone
// without a reset) is an error within seconds, not a hang, and everything resumes by itself.
describe('PostgreSQL hanging', () => {
  it("answers POST /orders 500 (seed 001's body) within seconds and reports not ready, then 201 again once it answers", async () => {
    const { proxy, order } = await setUp('db_hang', 'postgres');
    expect((await post(`${order.baseUrl}/orders`, body)).status).toBe(201);

    proxy.freeze();
    const startedAt = performance.now();
    const failed = await post(`${order.baseUrl}/orders`, body);
    const waitedMs = performance.now() - startedAt;
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ message: 'Internal server error while placing the order' });
    // ORDER_INTAKE_TIMEOUT_MS (3 s) and no more than a little over it: without the bound it waited for
    // the client's query timeout (15 s) or for ever.
    expect(waitedMs).toBeGreaterThan(2_500);
    expect(waitedMs).toBeLessThan(8_000);
    const ready = await get(`${order.baseUrl}/health/ready`);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ postgres: 'down' });

    proxy.thaw();
    await waitFor('a 201 once PostgreSQL answers', async () => {
      const response = await post(`${order.baseUrl}/orders`, body);
      return response.status === 201 ? response : undefined;
    });
    await waitFor('readiness', async () => (await get(`${order.baseUrl}/health/ready`)).status === 200);
  }, 60_000);
});

describe('RabbitMQ hanging', () => {
  it('keeps answering 201, and publishes the events once it answers again', async () => {
    const { infra, proxy, order } = await setUp('broker_hang', 'rabbitmq');
    const received = await infra.exchange.capture(['order.cancelled']);
    await waitFor('readiness', async () => (await get(`${order.baseUrl}/health/ready`)).status === 200);

    proxy.freeze();
    const during = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const placed = await post(`${order.baseUrl}/orders`, body);
        const cancelled = await post(`${order.baseUrl}/orders/${String(placed.body.id)}/cancel`);
        return [placed.status, cancelled.status];
      }),
    );
    expect(during).toEqual(Array(10).fill([201, 200]));
    // The heartbeat (10 s) gives up on the silent broker; the service reports it and reconnects later.
    await waitFor(
      'the broker to be reported down',
      async () => (await get(`${order.baseUrl}/health/ready`)).status === 503,
      30_000,
    );
    proxy.thaw();
    await waitFor('every cancellation published', () => received.length >= 10, 40_000);
    await waitFor(
      'all rows removed from the outbox',
      async () => {
        const rows = await order.sql<{ n: string }>('SELECT count(*) AS n FROM outbox');
        return Number(rows[0]?.n) === 0;
      },
      20_000,
    );
  }, 90_000);
});
