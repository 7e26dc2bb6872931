import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@platform/testing';
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
let cancelled: CapturedMessage[];

beforeAll(async () => {
  infra = await createTestInfrastructure('orders_api');
  cancelled = await infra.exchange.capture(['order.cancelled']);
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

/** Room for a duplicate or a stray event to arrive before a test asserts there is none. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

const count = async (table: string): Promise<number> =>
  Number((await order.sql<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0]?.n);

describe('POST /orders accepts the three body shapes of SPEC §5', () => {
  const shapes = [
    {
      name: 'canonical',
      path: '/orders',
      body: { user_id: '7c11e1ce2741', items: [{ product_code: 'classic-box', quantity: 2 }] },
      expected: { user_id: '7c11e1ce2741', items: [['classic-box', 2]] },
    },
    {
      name: 'seed 000 shorthand',
      path: '/orders',
      body: { user_id: '7c11e1ce2741', product_code: 'classic-box' },
      expected: { user_id: '7c11e1ce2741', items: [['classic-box', 1]] },
    },
    {
      name: 'seed 002 on /api/orders',
      path: '/api/orders',
      body: {
        customer_id: 'customer-123',
        items: [
          { product_id: 'product-A', quantity: 2 },
          { product_id: 'product-B', quantity: 1 },
        ],
        total_amount: 150.0,
      },
      expected: {
        user_id: 'customer-123',
        items: [
          ['product-A', 2],
          ['product-B', 1],
        ],
      },
    },
  ];

  for (const shape of shapes) {
    it(`stores a ${shape.name} order as PENDING with its first event, and GET returns it`, async () => {
      const response = await post(`${order.baseUrl}${shape.path}`, shape.body);
      expect(response.status).toBe(201);
      const id = response.body.id as string;
      expect(response.headers.get('location')).toBe(`${shape.path}/${id}`);
      expect(response.body).toMatchObject({
        status: 'PENDING',
        user_id: shape.expected.user_id,
        reason: null,
      });
      const items = response.body.items as { product_code: string; quantity: number }[];
      expect(items.map((item) => [item.product_code, item.quantity])).toEqual(shape.expected.items);

      const fetched = await get(`${order.baseUrl}${response.headers.get('location') ?? ''}`);
      expect(fetched.status).toBe(200);
      expect(fetched.body).toEqual(response.body);

      // Its first event, committed with the row (SPEC §4.1): the `placed` entry of its history, with what
      // the customer asked for. Nothing is published for it: pricing works from the row.
      const history = await order.sql<{ position: number; step: string; data: Record<string, unknown> }>(
        'SELECT position, step, data FROM order_history WHERE order_id = $1',
        [id],
      );
      expect(history).toHaveLength(1);
      expect(history[0]).toMatchObject({
        position: 1,
        step: 'placed',
        data: { user_id: shape.expected.user_id },
      });
      const asked = (history[0]?.data.items ?? []) as { product_code: string; quantity: number }[];
      expect(asked.map((item) => [item.product_code, item.quantity])).toEqual(shape.expected.items);
      expect(await count("outbox WHERE correlation_id = '" + id + "'")).toBe(0);
    });
  }

  it('keeps a seed 002 client total for the pricing check', async () => {
    const response = await post(`${order.baseUrl}/api/orders`, {
      customer_id: 'customer-123',
      items: [{ product_id: 'product-A', quantity: 1 }],
      total_amount: 50.5,
    });
    const rows = await order.sql<{ requested_total_amount: number }>(
      'SELECT requested_total_amount FROM orders WHERE id = $1',
      [response.body.id],
    );
    expect(Number(rows[0]?.requested_total_amount)).toBe(50.5);
  });
});

describe('bad input gets a clear 4xx and stores nothing', () => {
  const longString = 'x'.repeat(10_000);
  const invalid: [string, unknown, RegExp][] = [
    ['a wrong type', { user_id: 42, items: [{ product_code: 'classic-box', quantity: 1 }] }, /body\/user_id/],
    ['a missing user', { items: [{ product_code: 'classic-box', quantity: 1 }] }, /user_id/],
    ['missing items', { user_id: 'u1' }, /items/],
    ['an item without quantity', { user_id: 'u1', items: [{ product_code: 'classic-box' }] }, /quantity/],
    ['a zero quantity', { user_id: 'u1', items: [{ product_code: 'classic-box', quantity: 0 }] }, /quantity/],
    [
      'a negative quantity',
      { user_id: 'u1', items: [{ product_code: 'classic-box', quantity: -3 }] },
      /quantity/,
    ],
    [
      'a fractional quantity',
      { user_id: 'u1', items: [{ product_code: 'classic-box', quantity: 1.5 }] },
      /quantity/,
    ],
    [
      'an absurd quantity',
      { user_id: 'u1', items: [{ product_code: 'classic-box', quantity: 1e12 }] },
      /quantity/,
    ],
    [
      'a string quantity',
      { user_id: 'u1', items: [{ product_code: 'classic-box', quantity: '2' }] },
      /quantity/,
    ],
    ['empty items', { user_id: 'u1', items: [] }, /items/],
    ['an unknown field', { user_id: 'u1', product_code: 'classic-box', coupon: 'FREE' }, /body\/coupon/],
    [
      'an unknown item field',
      { user_id: 'u1', items: [{ product_code: 'a', quantity: 1, price: 0 }] },
      /price/,
    ],
    ['a very long user id', { user_id: longString, product_code: 'classic-box' }, /user_id/],
    ['a very long product code', { user_id: 'u1', product_code: longString }, /product_code/],
    ['an empty user id', { user_id: '', product_code: 'classic-box' }, /user_id/],
    [
      'a duplicated product',
      {
        user_id: 'u1',
        items: [
          { product_code: 'a', quantity: 1 },
          { product_code: 'a', quantity: 2 },
        ],
      },
      /more than once/,
    ],
    [
      'a negative total',
      { customer_id: 'c', items: [{ product_id: 'product-A', quantity: 1 }], total_amount: -1 },
      /total_amount/,
    ],
    [
      'a total with fractions of cents',
      { customer_id: 'c', items: [{ product_id: 'product-A', quantity: 1 }], total_amount: 1.001 },
      /total_amount/,
    ],
    ['an array', [{ user_id: 'u1', product_code: 'classic-box' }], /JSON object/],
    ['null', null, /JSON object/],
  ];

  for (const [name, body, pathPattern] of invalid) {
    it(`rejects ${name} with 422`, async () => {
      const response = await post(`${order.baseUrl}/orders`, body);
      expect(response.status).toBe(422);
      expect(response.body.message).toEqual(expect.any(String));
      const errors = response.body.errors as { path: string; message: string }[];
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.map((e) => `${e.path} ${e.message}`).join('; ')).toMatch(pathPattern);
    });
  }

  it('rejects malformed JSON with 400', async () => {
    const response = await post(`${order.baseUrl}/orders`, '{"user_id": "u1", ');
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(/JSON/);
  });

  it('rejects a wrong content type with 415', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const response = await post(`${order.baseUrl}/orders`, 'user_id=u1', { 'content-type': type });
      expect(response.status).toBe(415);
      expect(response.body.message).toMatch(/application\/json/);
    }
  });

  it('rejects a 2 MB body with 413', async () => {
    const body = JSON.stringify({ user_id: 'u1', product_code: 'x'.repeat(2 * 1024 * 1024) });
    const response = await post(`${order.baseUrl}/orders`, body);
    expect(response.status).toBe(413);
    expect(response.body.message).toMatch(/larger than/);
  });

  it('rejects an over-long Idempotency-Key with 422', async () => {
    const response = await post(
      `${order.baseUrl}/orders`,
      { user_id: 'u1', product_code: 'classic-box' },
      { 'idempotency-key': 'k'.repeat(256) },
    );
    expect(response.status).toBe(422);
  });

  it('stored no order and no event for any of them', async () => {
    const before = {
      orders: await count('orders'),
      placed: await count("order_history WHERE step = 'placed'"),
    };
    await post(`${order.baseUrl}/orders`, { user_id: 'u1', items: [] });
    await post(`${order.baseUrl}/orders`, '{nope');
    await post(`${order.baseUrl}/orders`, 'x', { 'content-type': 'text/plain' });
    await settle();
    expect({
      orders: await count('orders'),
      placed: await count("order_history WHERE step = 'placed'"),
    }).toEqual(before);
    const rows = await order.sql<{ user_id: string }>(
      "SELECT user_id FROM orders WHERE user_id IN ('u1', 'c', '')",
    );
    expect(rows).toEqual([]);
  });
});

describe('reading orders', () => {
  it('answers 404 with a message for an unknown or malformed id', async () => {
    for (const id of ['5f1c3b8e-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const response = await get(`${order.baseUrl}/orders/${id}`);
      expect(response.status).toBe(404);
      expect(response.body).toEqual({ message: 'Order not found' });
    }
  });

  it('lists newest first with a cursor, filtered by user and status', async () => {
    const user = `pager-${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      ids.push(
        (await post(`${order.baseUrl}/orders`, { user_id: user, product_code: 'classic-box' })).body
          .id as string,
      );
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `user_id=${user}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await get(`${order.baseUrl}/orders?${query}`);
      expect(page.status).toBe(200);
      seen.push(...(page.body.items as { id: string }[]).map((o) => o.id));
      cursor = page.body.next_cursor as string | null;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());

    const cancelledPage = await get(`${order.baseUrl}/orders?user_id=${user}&status=CANCELLED`);
    expect(cancelledPage.body.items).toEqual([]);
  });

  it('searches by order id, customer or product (q), by reason, product and time of placement', async () => {
    const user = `searcher-${Date.now()}`;
    const before = new Date(Date.now() - 1_000).toISOString();
    const box = (await post(`${order.baseUrl}/orders`, { user_id: user, product_code: 'classic-box' })).body
      .id as string;
    const veggie = (await post(`${order.baseUrl}/orders`, { user_id: user, product_code: 'veggie-box' })).body
      .id as string;
    await post(`${order.baseUrl}/orders/${veggie}/cancel`);
    const ids = async (query: string) =>
      ((await get(`${order.baseUrl}/orders?${query}`)).body.items as { id: string }[]).map((o) => o.id);

    expect(await ids(`q=${box}`)).toEqual([box]);
    expect(await ids(`q=${user}`)).toEqual([veggie, box]);
    expect(await ids(`q=veggie-box&user_id=${user}`)).toEqual([veggie]);
    expect(await ids(`user_id=${user}&product_code=classic-box`)).toEqual([box]);
    expect(await ids(`user_id=${user}&reason=customer_request`)).toEqual([veggie]);
    expect(await ids(`user_id=${user}&created_from=${before}`)).toEqual([veggie, box]);
    expect(await ids(`user_id=${user}&created_to=${before}`)).toEqual([]);
    expect((await get(`${order.baseUrl}/orders?created_from=yesterday`)).status).toBe(422);
  });

  it('rejects a bad cursor or limit with 422', async () => {
    expect((await get(`${order.baseUrl}/orders?cursor=bm9wZQ`)).status).toBe(422);
    const beyondBigint = Buffer.from('9999999999999999999').toString('base64url');
    expect((await get(`${order.baseUrl}/orders?cursor=${beyondBigint}`)).status).toBe(422);
    expect((await get(`${order.baseUrl}/orders?limit=0`)).status).toBe(422);
    expect((await get(`${order.baseUrl}/orders?limit=1000`)).status).toBe(422);
    expect((await get(`${order.baseUrl}/orders?status=LOST`)).status).toBe(422);
  });
});

describe('POST /orders/{id}/cancel', () => {
  it('cancels a PENDING order with customer_request and emits order.cancelled, then answers 409', async () => {
    const id = (await post(`${order.baseUrl}/orders`, { user_id: 'canceller', product_code: 'classic-box' }))
      .body.id as string;
    const response = await post(`${order.baseUrl}/orders/${id}/cancel`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id, status: 'CANCELLED', reason: 'customer_request' });
    expect((response.body.timeline as { step: string }[]).map((entry) => entry.step)).toEqual([
      'placed',
      'cancelled',
    ]);

    const message = await waitFor('order.cancelled on the exchange', () =>
      cancelled.find((m) => (m.body as { correlation_id: string }).correlation_id === id),
    );
    expect(message.body).toMatchObject({ type: 'order.cancelled', payload: { reason: 'customer_request' } });

    const again = await post(`${order.baseUrl}/api/orders/${id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/CANCELLED/);
    await settle();
    expect(
      cancelled.filter((m) => (m.body as { correlation_id: string }).correlation_id === id),
    ).toHaveLength(1);
  });

  it('accepts a bodiless cancel whatever empty body the client sends', async () => {
    for (const type of ['application/json', 'application/x-www-form-urlencoded']) {
      const id = (
        await post(`${order.baseUrl}/orders`, { user_id: 'canceller', product_code: 'classic-box' })
      ).body.id;
      const response = await post(`${order.baseUrl}/orders/${String(id)}/cancel`, '', {
        'content-type': type,
      });
      expect(response.status).toBe(200);
    }
  });

  it('answers 404 for an unknown order', async () => {
    const response = await post(`${order.baseUrl}/orders/5f1c3b8e-0000-4000-8000-000000000000/cancel`);
    expect(response.status).toBe(404);
  });
});

describe('operations endpoints', () => {
  it('reports liveness and readiness', async () => {
    expect(await get(`${order.baseUrl}/health/live`)).toEqual({ status: 200, body: { status: 'ok' } });
    const ready = await waitFor('readiness', async () => {
      const response = await get(`${order.baseUrl}/health/ready`);
      return response.status === 200 ? response : undefined;
    });
    expect(ready.body).toEqual({ status: 'ready', postgres: 'up', rabbitmq: 'up' });
  });

  it('serves Prometheus metrics with the outbox and HTTP series', async () => {
    await post(`${order.baseUrl}/orders`, { user_id: 'metrics', product_code: 'classic-box' });
    const text = await (await fetch(`${order.baseUrl}/metrics`)).text();
    for (const series of [
      'outbox_backlog_messages',
      'outbox_oldest_unpublished_age_seconds',
      'outbox_publish_failures_total',
      'outbox_published_total',
    ]) {
      expect(text).toMatch(new RegExp(`^${series}\\{service="order"\\} \\d`, 'm'));
    }
    expect(text).toMatch(
      /http_request_duration_seconds_count\{[^}]*route="\/orders",status_code="201"\} [1-9]/,
    );
  });

  it('serves the OpenAPI document and the docs UI', async () => {
    const spec = await get(`${order.baseUrl}/openapi.json`);
    expect(spec.status).toBe(200);
    expect(Object.keys(spec.body.paths as object)).toEqual(
      expect.arrayContaining(['/orders/', '/orders/{id}', '/orders/{id}/cancel']),
    );
    const docs = await fetch(`${order.baseUrl}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toMatch(/swagger/i);
  });

  it('echoes a caller-supplied correlation id', async () => {
    const response = await fetch(`${order.baseUrl}/health/live`, {
      headers: { 'x-correlation-id': 'trace-me-42' },
    });
    expect(response.headers.get('x-correlation-id')).toBe('trace-me-42');
  });

  it('replaces a correlation id that breaks the identifier rule with a fresh one', async () => {
    const response = await fetch(`${order.baseUrl}/health/live`, {
      headers: { 'x-correlation-id': 'x'.repeat(65) },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
