import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testToken } from '@platform/testing';
import {
  createTestInfrastructure,
  post,
  startOrderService,
  type TestOrderService,
} from './order-service.harness.js';

// SPEC §4.9 (issue 22): one customer cannot take the whole capacity. A rate per customer (the token's sub,
// or an anonymous caller's address) on placements and on cancellations, and a cap on each customer's
// orders in flight, beside the global bound, which stays. Intake-only: orders stay PENDING (in flight).
const orderOf = (user: string) => ({ user_id: user, items: [{ product_code: 'product-A', quantity: 1 }] });
const as = async (user: string) => ({ authorization: `Bearer ${await testToken(user)}` });

describe('fair share between customers (SPEC §4.9)', () => {
  let infra: Awaited<ReturnType<typeof createTestInfrastructure>>;
  let order: TestOrderService;

  beforeAll(async () => {
    infra = await createTestInfrastructure('order_fair_share');
    order = await startOrderService({
      ...infra,
      env: {
        ORDER_CUSTOMER_RATE_MAX: '5',
        ORDER_CUSTOMER_RATE_WINDOW_MS: '60000',
        ORDER_CUSTOMER_MAX_IN_FLIGHT: '4',
        ORDER_MAX_IN_FLIGHT: '1000',
      },
    });
  });
  afterAll(async () => {
    await order.service.stop();
    await infra.remove();
  });

  const storedFor = async (user: string) =>
    Number(
      (await order.sql<{ n: string }>('SELECT count(*) AS n FROM orders WHERE user_id = $1', [user]))[0]?.n,
    );

  it("refuses a flooding customer's orders with 429 and Retry-After past their rate, and keeps accepting another customer's", async () => {
    const flooder = await as('flooder');
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        // Both prefixes count against one rate.
        post(`${order.baseUrl}/${i % 2 === 0 ? 'orders' : 'api/orders'}`, orderOf('flooder'), flooder),
      ),
    );
    const statuses = answers.map((answer) => answer.status);
    // Five within the rate, of which four within the cap on orders in flight; the rest refused.
    expect(statuses.filter((status) => status === 201)).toHaveLength(4);
    expect(statuses.filter((status) => status === 429)).toHaveLength(16);
    const limited = answers.find((answer) => /Too many requests/.test(String(answer.body.message)));
    expect(limited?.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await storedFor('flooder')).toBe(4);

    const other = await post(`${order.baseUrl}/orders`, orderOf('patient'), await as('patient'));
    expect(other.status).toBe(201);

    const metrics = await (await fetch(`${order.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /^customer_limit_refusals_total\{[^}]*request="place_order"[^}]*limit="rate"[^}]*\} 15$/m,
    );
    expect(metrics).toMatch(/^customer_limit_refusals_total\{[^}]*limit="in_flight"[^}]*\} 1$/m);
  });

  it('caps the orders in flight of one customer, whatever their rate: 429, nothing stored', async () => {
    const headers = await as('hoarder');
    for (let i = 0; i < 4; i += 1) {
      expect((await post(`${order.baseUrl}/orders`, orderOf('hoarder'), headers)).status).toBe(201);
    }
    const refused = await post(`${order.baseUrl}/orders`, orderOf('hoarder'), headers);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.body.message).toMatch(/as many orders in flight as one customer may/);
    expect(await storedFor('hoarder')).toBe(4);
  });

  it('counts anonymous callers by their address', async () => {
    // Anonymous (AUTH_MODE=optional): the rate is the caller's address's, here 127.0.0.1's.
    const anonymous = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        fetch(`${order.baseUrl}/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(orderOf(`walk-in-${i}`)),
        }),
      ),
    );
    expect(anonymous.map((response) => response.status).sort()).toEqual([
      201, 201, 201, 201, 201, 429, 429, 429,
    ]);
  });

  it("limits a customer's cancellations to the same rate", async () => {
    const headers = await as('canceller');
    const placed = await post(`${order.baseUrl}/orders`, orderOf('canceller'), headers);
    expect(placed.status).toBe(201);
    const id = String(placed.body.id);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      statuses.push((await post(`${order.baseUrl}/orders/${id}/cancel`, undefined, headers)).status);
    }
    // One cancellation, four answered "already final", then the rate.
    expect(statuses).toEqual([200, 409, 409, 409, 409, 429, 429]);
  });
});
