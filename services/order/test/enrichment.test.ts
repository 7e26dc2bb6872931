import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulators } from '@platform/simulators';
import { waitFor } from '@platform/testing';
import {
  createTestInfrastructure,
  get,
  post,
  startOrderService,
  type CapturedMessage,
  type TestOrderService,
} from './order-service.harness.js';

// Seed 000's faults with short limits so the suite stays fast: each call gives up after 800 ms (the seeds'
// healthy answers take 200-300 ms) and an order after 4 s. The user and product services are the
// seed-profile simulators, as real HTTP servers.
const ENRICHMENT_ENV = {
  ENRICHMENT_CONCURRENCY: '64',
  ENRICHMENT_DEADLINE_MS: '4000',
  ENRICHMENT_CALL_TIMEOUT_MS: '800',
  ENRICHMENT_RETRY_BASE_MS: '50',
  ENRICHMENT_RETRY_MAX_MS: '400',
  ENRICHMENT_POLL_INTERVAL_MS: '50',
};

let infra: Awaited<ReturnType<typeof createTestInfrastructure>>;
let simulators: Awaited<ReturnType<typeof startSimulators>>;
let created: CapturedMessage[];
let legacy: CapturedMessage[];
let cancelled: CapturedMessage[];

beforeAll(async () => {
  infra = await createTestInfrastructure('enrichment');
  simulators = await startSimulators({ ports: { product: 0, user: 0, payment: 0, fulfilment: 0 } });
  created = await infra.exchange.capture(['order.created']);
  legacy = await infra.exchange.capture(['created_order']);
  cancelled = await infra.exchange.capture(['order.cancelled']);
});

afterAll(async () => {
  try {
    await simulators.close();
  } finally {
    await infra.remove();
  }
});

async function withService<T>(run: (order: TestOrderService) => Promise<T>): Promise<T> {
  const order = await startOrderService({
    ...infra,
    env: {
      ...ENRICHMENT_ENV,
      ORDER_PRODUCT_SERVICE_URL: simulators.urls.product,
      ORDER_USER_SERVICE_URL: simulators.urls.user,
    },
  });
  try {
    return await run(order);
  } finally {
    await order.service.stop();
  }
}

type OrderBody = Record<string, unknown>;
const useCase = (userId: string, productCode: string): OrderBody => ({
  user_id: userId,
  product_code: productCode,
});
const ADA = '7c11e1ce2741';
const ALAN = 'e6f24d7d1c7e';

async function settled(order: TestOrderService, id: string): Promise<Record<string, unknown>> {
  return waitFor(
    `order ${id} priced or cancelled`,
    async () => {
      const { body } = await get(`${order.baseUrl}/orders/${id}`);
      return body.status === 'CANCELLED' || body.total_amount !== null ? body : undefined;
    },
    10_000,
  );
}

const eventsFor = (messages: CapturedMessage[], id: string) =>
  messages.filter((m) => (m.body as { correlation_id: string }).correlation_id === id);

describe('seed 000 use cases (SPEC §7)', () => {
  it('prices #1 and #4, cancels #2, #3, #5, #6 with dependency_unavailable', async () => {
    await withService(async (order) => {
      const cases = [
        { n: 1, body: useCase(ADA, 'classic-box'), customer: 'Ada Lovelace' },
        { n: 2, body: useCase(ADA, 'family-box'), reason: 'dependency_unavailable' },
        { n: 3, body: useCase(ADA, 'veggie-box'), reason: 'dependency_unavailable' },
        { n: 4, body: useCase(ALAN, 'classic-box'), customer: 'Alan Turing' },
        { n: 5, body: useCase(ALAN, 'family-box'), reason: 'dependency_unavailable' },
        { n: 6, body: useCase(ALAN, 'veggie-box'), reason: 'dependency_unavailable' },
      ];
      const ids = await Promise.all(
        cases.map(async ({ body }) => {
          const response = await post(`${order.baseUrl}/orders`, body);
          expect(response.status).toBe(201);
          return response.body.id as string;
        }),
      );
      const results = await Promise.all(ids.map((id) => settled(order, id)));
      cases.forEach((useCaseEntry, i) => {
        const result = results[i];
        if (useCaseEntry.customer) {
          expect(result, `#${useCaseEntry.n}`).toMatchObject({
            status: 'PENDING', // priced, awaiting inventory until the saga lands
            customer_fullname: useCaseEntry.customer,
            product_name: 'Classic Box',
            total_amount: 9.99,
            items: [
              { product_code: 'classic-box', product_name: 'Classic Box', quantity: 1, unit_price: 9.99 },
            ],
          });
        } else {
          expect(result, `#${useCaseEntry.n}`).toMatchObject({
            status: 'CANCELLED',
            reason: useCaseEntry.reason,
          });
        }
      });

      // #1's created_order message carries Ada Lovelace, Classic Box, 9.99 (seed 000's consumers).
      const first = await waitFor('#1 on created_order', () => eventsFor(legacy, ids[0] ?? '')[0]);
      expect(first.body).toMatchObject({
        type: 'order.created',
        producer: 'order',
        correlation_id: ids[0],
        payload: {
          order: {
            order_id: ids[0],
            customer_fullname: 'Ada Lovelace',
            product_name: 'Classic Box',
            total_amount: 9.99,
          },
        },
      });
      await waitFor('#4 on created_order', () => eventsFor(legacy, ids[3] ?? '').length === 1);
      for (const i of [1, 2, 4, 5]) {
        await waitFor(`#${i + 1} cancelled event`, () => eventsFor(cancelled, ids[i] ?? '').length === 1);
        expect(eventsFor(created, ids[i] ?? '')).toEqual([]);
      }
    });
  });

  it('cancels an unknown user with user_not_found and an unknown product with product_not_found', async () => {
    await withService(async (order) => {
      const user = (await post(`${order.baseUrl}/orders`, useCase('no-such-user', 'classic-box'))).body
        .id as string;
      const product = (await post(`${order.baseUrl}/orders`, useCase(ADA, 'no-such-box'))).body.id as string;
      expect(await settled(order, user)).toMatchObject({ status: 'CANCELLED', reason: 'user_not_found' });
      expect(await settled(order, product)).toMatchObject({
        status: 'CANCELLED',
        reason: 'product_not_found',
      });
    });
  });

  it('checks a seed 002 total: the right one prices the order, a wrong one cancels it with total_mismatch', async () => {
    await withService(async (order) => {
      const items = [
        { product_id: 'product-A', quantity: 2 },
        { product_id: 'product-B', quantity: 1 },
      ];
      const right = await post(`${order.baseUrl}/api/orders`, {
        customer_id: 'customer-123',
        items,
        total_amount: 150,
      });
      const wrong = await post(`${order.baseUrl}/api/orders`, {
        customer_id: 'customer-123',
        items,
        total_amount: 149.99,
      });
      expect(await settled(order, right.body.id as string)).toMatchObject({
        total_amount: 150,
        customer_fullname: 'Grace Hopper',
        product_name: 'Product A, Product B',
      });
      expect(await settled(order, wrong.body.id as string)).toMatchObject({
        status: 'CANCELLED',
        reason: 'total_mismatch',
      });
    });
  });
});

describe('isolation from third parties (SPEC §4.5)', () => {
  it('60 orders at once, ten of each use case: #1 and #4 priced, the others cancelled, POST never waits', async () => {
    await withService(async (order) => {
      const bodies = [
        useCase(ADA, 'classic-box'),
        useCase(ADA, 'family-box'),
        useCase(ADA, 'veggie-box'),
        useCase(ALAN, 'classic-box'),
        useCase(ALAN, 'family-box'),
        useCase(ALAN, 'veggie-box'),
      ];
      const sent = await Promise.all(
        Array.from({ length: 60 }, async (_, i) => {
          const kind = i % 6;
          const start = performance.now();
          const response = await post(`${order.baseUrl}/orders`, bodies[kind]);
          return {
            kind,
            status: response.status,
            totalAmount: response.body.total_amount,
            id: response.body.id as string,
            ms: performance.now() - start,
          };
        }),
      );
      expect(sent.every((s) => s.status === 201)).toBe(true);
      // Each 201 came back unpriced, so it was answered before the third parties were asked; and none took
      // anything like a call timeout (800 ms), let alone family-box's 60 s.
      expect(sent.every((s) => s.totalAmount === null)).toBe(true);
      expect(Math.max(...sent.map((s) => s.ms))).toBeLessThan(800);

      const results = await Promise.all(sent.map((s) => settled(order, s.id)));
      sent.forEach((s, i) => {
        if (s.kind === 0 || s.kind === 3)
          expect(results[i], `use case #${s.kind + 1}`).toMatchObject({ total_amount: 9.99 });
        else
          expect(results[i], `use case #${s.kind + 1}`).toMatchObject({
            status: 'CANCELLED',
            reason: 'dependency_unavailable',
          });
      });
      const priced = sent.filter((s) => s.kind === 0 || s.kind === 3);
      await waitFor('every priced order published', () =>
        priced.every((s) => eventsFor(created, s.id).length === 1),
      );

      // What an operator sees: calls by outcome, retries, the failing products' own open circuits, cache hits.
      const metrics = await (await fetch(`${order.baseUrl}/metrics`)).text();
      // prom-client orders labels differently by metric type: match a series by name and label set.
      const value = (name: string, labels: Record<string, string>): number => {
        const wanted = Object.entries({ service: 'order', ...labels }).map(([k, v]) => `${k}="${v}"`);
        const line = metrics
          .split('\n')
          .find((l) => l.startsWith(`${name}{`) && wanted.every((pair) => l.includes(pair)));
        return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
      };
      const calls = (outcome: string) =>
        value('third_party_call_duration_seconds_count', { dependency: 'product', outcome });
      expect(calls('found')).toBeGreaterThan(0);
      expect(calls('unavailable')).toBeGreaterThan(0);
      expect(calls('circuit_open')).toBeGreaterThan(0);
      expect(value('third_party_retries_total', { dependency: 'product' })).toBeGreaterThan(0);
      expect(value('third_party_open_circuits', { dependency: 'product' })).toBeGreaterThanOrEqual(1);
      // Twenty classic-box orders at once: one call, the others share it (or find its answer cached).
      const reused =
        value('product_cache_lookups_total', { result: 'shared' }) +
        value('product_cache_lookups_total', { result: 'hit' });
      expect(reused).toBeGreaterThanOrEqual(15);
    });
  });
});

describe('durability of enrichment', () => {
  it('a worker stopped mid-way leaves no order unprocessed and none processed twice', async () => {
    const ids: string[] = [];
    await withService(async (order) => {
      // Veggie-box keeps these orders retrying for their whole deadline: the stop lands in the middle.
      for (let i = 0; i < 10; i += 1) {
        ids.push(
          (await post(`${order.baseUrl}/orders`, useCase(ADA, i % 2 === 0 ? 'veggie-box' : 'classic-box')))
            .body.id as string,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 400));
    });
    await withService(async (order) => {
      const results = await Promise.all(ids.map((id) => settled(order, id)));
      results.forEach((result, i) => {
        expect(result, `order ${i}`).toMatchObject(
          i % 2 === 0 ? { status: 'CANCELLED', reason: 'dependency_unavailable' } : { total_amount: 9.99 },
        );
      });
      await new Promise((resolve) => setTimeout(resolve, 500)); // room for a second verdict to show up
      for (const [i, id] of ids.entries()) {
        const events = [...eventsFor(created, id), ...eventsFor(cancelled, id)];
        expect(events, `verdict events of order ${i}`).toHaveLength(1);
        const timeline = (
          (await get(`${order.baseUrl}/orders/${id}`)).body.timeline as { step: string }[]
        ).map((e) => e.step);
        expect(timeline).toEqual(['placed', i % 2 === 0 ? 'cancelled' : 'priced']);
      }
    });
  });
});
