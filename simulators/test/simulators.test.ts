import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProfile, startSimulators, type RequestLogEntry, type SimulatorsOptions } from '../src/index.js';
import { get, post } from './simulators.harness.js';

const freePorts = { product: 0, user: 0, payment: 0, fulfilment: 0 };

/** Runs `check` against all four simulators on free ports, closing them afterwards. */
async function withSimulators(
  options: SimulatorsOptions,
  check: (urls: Awaited<ReturnType<typeof startSimulators>>['urls']) => Promise<void>,
): Promise<void> {
  const simulators = await startSimulators({ ports: freePorts, ...options });
  try {
    await check(simulators.urls);
  } finally {
    await simulators.close();
  }
}

describe('startSimulators', () => {
  it('starts the four simulators, each on its own port with /health', async () => {
    await withSimulators({}, async (urls) => {
      expect(new Set(Object.values(urls)).size).toBe(4);
      for (const url of Object.values(urls))
        expect((await get(`${url}/health`)).body).toEqual({ status: 'ok' });
      expect((await get(`${urls.product}/products/product-A`)).status).toBe(200);
      expect((await get(`${urls.user}/users/customer-123`)).status).toBe(200);
    });
  });

  it('closes at once with a family-box request pending, failing that request', async () => {
    const requests: RequestLogEntry[] = [];
    const simulators = await startSimulators({
      ports: freePorts,
      onRequest: (entry) => requests.push(entry),
    });
    const pending = fetch(`${simulators.urls.product}/products/family-box`);
    const outcome = pending.then(
      () => 'answered',
      () => 'failed',
    );
    // Let the request reach the server and start its 60 s wait.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const startedAt = performance.now();
    await simulators.close();
    expect(performance.now() - startedAt).toBeLessThan(1_000);
    expect(await outcome).toBe('failed');
    // Reported before close() resolved, so main.ts logs the dropped request before it exits.
    expect(requests).toMatchObject([{ url: '/products/family-box', aborted: true }]);
  });

  it('fails with a clear message when a port is taken, closing what it started', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    try {
      await expect(startSimulators({ ports: { ...freePorts, fulfilment: taken } })).rejects.toThrow(
        `fulfilment simulator cannot listen on 127.0.0.1:${taken}`,
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('with profile fast, answers every known product and user at once and never fails', async () => {
    await withSimulators({ profile: 'fast', random: () => 0.999 }, async (urls) => {
      for (const code of ['classic-box', 'family-box', 'veggie-box']) {
        const answer = await get(`${urls.product}/products/${code}`);
        expect(answer.status).toBe(200);
        expect(answer.ms).toBeLessThan(150);
      }
      const alan = await get(`${urls.user}/users/e6f24d7d1c7e`);
      expect(alan.status).toBe(200);
      expect(alan.ms).toBeLessThan(150);
      expect((await post(`${urls.payment}/charges`, { order_id: 'o-1', amount: 9.99 })).status).toBe(201);
      const placed = await post(`${urls.fulfilment}/placements`, {
        order_id: 'o-1',
        items: [{ product_code: 'classic-box', quantity: 1 }],
      });
      expect(placed.status).toBe(201);
      expect(placed.ms).toBeLessThan(150);
    });
    await withSimulators({ profile: 'fast', random: () => 0 }, async (urls) => {
      const items = [{ product_code: 'classic-box', quantity: 1 }];
      expect((await post(`${urls.fulfilment}/placements`, { order_id: 'o-1', items })).status).toBe(201);
    });
  });

  it('follows a profile read from a JSON file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'simulators-'));
    try {
      const path = join(dir, 'profile.json');
      await writeFile(
        path,
        JSON.stringify({
          products: { 'slow-box': { name: 'Slow Box', price: 1.5, delayMs: 100, status: 503 } },
          users: { u1: { firstName: 'Barbara', lastName: 'Liskov', alternate: true } },
          payment: { successRate: 0 },
          fulfilment: { failureRate: 1 },
        }),
      );
      await withSimulators({ profile: await loadProfile(path), random: () => 0.5 }, async (urls) => {
        const slow = await get(`${urls.product}/products/slow-box`);
        expect(slow.status).toBe(503);
        expect(slow.ms).toBeGreaterThanOrEqual(80);
        expect((await get(`${urls.product}/products/classic-box`)).status).toBe(404);
        expect((await get(`${urls.user}/users/u1`)).status).toBe(500);
        expect((await get(`${urls.user}/users/u1`)).body).toEqual({
          id: 'u1',
          firstName: 'Barbara',
          lastName: 'Liskov',
        });
        expect((await post(`${urls.payment}/charges`, { order_id: 'o-1', amount: 1 })).status).toBe(503);
        const items = [{ product_code: 'slow-box', quantity: 1 }];
        expect((await post(`${urls.fulfilment}/placements`, { order_id: 'o-1', items })).status).toBe(503);
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
