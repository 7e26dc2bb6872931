import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@platform/testing';
import { createTestInfrastructure, post, startOrderService } from './order-service.harness.js';

let infra: Awaited<ReturnType<typeof createTestInfrastructure>>;

beforeAll(async () => {
  infra = await createTestInfrastructure('shutdown');
});

afterAll(async () => {
  await infra.remove();
});

const body = { user_id: '7c11e1ce2741', items: [{ product_code: 'classic-box', quantity: 1 }] };

describe('graceful shutdown (SPEC §4.8)', () => {
  it('finishes requests in flight: every order answered 201 is stored with its first event, and no other', async () => {
    const first = await startOrderService(infra);
    const url = `${first.baseUrl}/orders`;

    // Twenty clients placing orders back to back; the stop lands while some of their requests are in flight.
    const outcomes: { status: number; id?: string }[] = [];
    let stopping = false;
    const client = async (): Promise<void> => {
      for (;;) {
        const outcome = await post(url, body).then(
          (response) => ({ status: response.status, id: response.body.id as string | undefined }),
          () => ({ status: 0 }), // refused or closed before the request was read: not taken
        );
        outcomes.push(outcome);
        if (stopping && outcome.status !== 201) return;
      }
    };
    const clients = Array.from({ length: 20 }, client);
    await waitFor('some orders placed', () => outcomes.length >= 50);
    stopping = true;
    const stopStarted = Date.now();
    await first.service.stop();
    // Bounded by the work in flight, not by idle keep-alive connections (72 s) lingering after it.
    expect(Date.now() - stopStarted).toBeLessThan(5_000);
    await Promise.all(clients);

    // Every request was either completed (201) or refused as a whole (503 while closing, or no connection).
    const statuses = new Set(outcomes.map((o) => o.status));
    expect(
      [...statuses].every((status) => [201, 503, 0].includes(status)),
      [...statuses].join(','),
    ).toBe(true);
    const accepted = outcomes.filter((o) => o.status === 201).map((o) => o.id);
    expect(accepted.length).toBeGreaterThanOrEqual(50);

    // A new instance on the same database finds every order the first one answered 201 for.
    const second = await startOrderService(infra);
    try {
      const stored = (await second.sql<{ id: string }>('SELECT id FROM orders')).map((row) => row.id);
      // Exactly the orders answered 201: none lost, and nothing stored for a request that was refused.
      expect([...stored].sort()).toEqual([...accepted].sort());
      // Each with its first event (the `placed` entry of its history), committed with it, once.
      const placed = await second.sql<{ order_id: string }>(
        "SELECT order_id FROM order_history WHERE step = 'placed'",
      );
      expect(placed.map((row) => row.order_id).sort()).toEqual([...stored].sort());
    } finally {
      await second.service.stop();
    }
  });
});
