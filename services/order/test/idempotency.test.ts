import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransactionRunner } from '@platform/postgres';
import type { OrderDatabase } from '../src/database.js';
import { storeNewOrders, type IntakeRequest } from '../src/orders/order-intake.js';
import {
  createTestInfrastructure,
  post,
  startOrderService,
  type TestOrderService,
} from './order-service.harness.js';

let infra: Awaited<ReturnType<typeof createTestInfrastructure>>;
let order: TestOrderService;

beforeAll(async () => {
  infra = await createTestInfrastructure('idempotency');
  order = await startOrderService(infra);
});

afterAll(async () => {
  // If setup failed half-way, `order` is unset: the throw lands in `try` and the infrastructure still goes.
  try {
    await order.service.stop();
  } finally {
    await infra.remove();
  }
});

const body = { user_id: '7c11e1ce2741', items: [{ product_code: 'classic-box', quantity: 2 }] };

/** Orders stored under a key, and the first events (`placed` history entries) stored for them. */
async function rowsFor(key: string): Promise<{ orders: number; events: number }> {
  const ids = (
    await order.sql<{ id: string }>("SELECT id FROM orders WHERE idempotency_key = user_id || ' ' || $1", [
      key,
    ])
  ).map((row) => row.id);
  const placed = await order.sql<{ n: string }>(
    "SELECT count(*) AS n FROM order_history WHERE order_id = ANY($1::uuid[]) AND step = 'placed'",
    [ids],
  );
  return { orders: ids.length, events: Number(placed[0]?.n) };
}

describe('Idempotency-Key', () => {
  it('returns the same order for a retry with the same body: one row, one event', async () => {
    const key = randomUUID();
    const first = await post(`${order.baseUrl}/orders`, body, { 'idempotency-key': key });
    const retry = await post(`${order.baseUrl}/orders`, body, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body.id).toBe(first.body.id);
    expect(retry.headers.get('location')).toBe(first.headers.get('location'));
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(await rowsFor(key)).toEqual({ orders: 1, events: 1 });
  });

  it('treats the same order sent in another body shape as the same request', async () => {
    const key = randomUUID();
    const shorthand = await post(
      `${order.baseUrl}/orders`,
      { user_id: 'u-shape', product_code: 'classic-box' },
      { 'idempotency-key': key },
    );
    const canonical = await post(
      `${order.baseUrl}/orders`,
      { user_id: 'u-shape', items: [{ product_code: 'classic-box', quantity: 1 }] },
      { 'idempotency-key': key },
    );
    expect(canonical.status).toBe(201);
    expect(canonical.body.id).toBe(shorthand.body.id);
  });

  it('refuses the same key with a different body with 422 and changes nothing', async () => {
    const key = randomUUID();
    const first = await post(`${order.baseUrl}/orders`, body, { 'idempotency-key': key });
    const other = await post(
      `${order.baseUrl}/orders`,
      { ...body, items: [{ product_code: 'classic-box', quantity: 3 }] },
      { 'idempotency-key': key },
    );
    expect(other.status).toBe(422);
    expect(other.body.message).toMatch(/Idempotency-Key/);
    expect(await rowsFor(key)).toEqual({ orders: 1, events: 1 });
    const stored = await order.sql<{ items: { quantity: number }[] }>(
      'SELECT items FROM orders WHERE id = $1',
      [first.body.id],
    );
    expect(stored[0]?.items[0]?.quantity).toBe(2);
  });

  it('creates one order when many requests race with one key', async () => {
    const key = randomUUID();
    const responses = await Promise.all(
      Array.from({ length: 25 }, () => post(`${order.baseUrl}/orders`, body, { 'idempotency-key': key })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(25).fill(201));
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
    expect(await rowsFor(key)).toEqual({ orders: 1, events: 1 });
  });

  it('creates one order per key when several keys race at once, each retried', async () => {
    const keys = Array.from({ length: 10 }, () => randomUUID());
    const responses = await Promise.all(
      keys.flatMap((key) =>
        [1, 2, 3].map(() => post(`${order.baseUrl}/orders`, body, { 'idempotency-key': key })),
      ),
    );
    expect(responses.every((r) => r.status === 201)).toBe(true);
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(keys.length);
    for (const key of keys) expect(await rowsFor(key)).toEqual({ orders: 1, events: 1 });
  });

  it('does not deadlock when two group commits hold the same keys in opposite orders', async () => {
    const transact = createTransactionRunner<OrderDatabase>(order.service.pool);
    const store = async (requests: IntakeRequest[]) => {
      const { stored } = await transact(async (trx) => ({ stored: storeNewOrders(trx, requests) }));
      return stored;
    };
    const command = {
      userId: 'u-lock',
      items: [{ productCode: 'classic-box', quantity: 1 }],
      requestedTotal: null,
    };
    // Enough keys per batch that the two statements overlap and would cross each other's locks.
    for (let round = 0; round < 3; round += 1) {
      const keys = Array.from({ length: 400 }, () => randomUUID());
      const request = (key: string): IntakeRequest => ({ command, idempotencyKey: key, requestHash: 'h' });
      const results = await Promise.all([store(keys.map(request)), store([...keys].reverse().map(request))]);
      const ids = results.flat().map((r) => (r.kind === 'created' ? r.order.id : r.owner.order.id));
      expect(new Set(ids).size).toBe(keys.length);
    }
  });

  it('gives orders without a key their own identity every time', async () => {
    const a = await post(`${order.baseUrl}/orders`, body);
    const b = await post(`${order.baseUrl}/orders`, body);
    expect(a.body.id).not.toBe(b.body.id);
  });
});
