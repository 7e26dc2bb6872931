import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulators, type RequestLogEntry } from '@platform/simulators';
import { createGuardedCall, type GuardOptions } from '../src/enrichment/guarded-calls.js';
import { createProductClient, createUserClient } from '../src/enrichment/third-parties.client.js';

let simulators: Awaited<ReturnType<typeof startSimulators>>;
const requests: RequestLogEntry[] = [];

beforeAll(async () => {
  // The seed profile: the seeds' exact data, delays and faults.
  simulators = await startSimulators({
    ports: { product: 0, user: 0, payment: 0, fulfilment: 0 },
    onRequest: (entry) => requests.push(entry),
  });
});

afterAll(async () => {
  await simulators.close();
});

const guardOptions: GuardOptions = {
  callTimeoutMs: 500,
  maxConcurrent: 10,
  maxQueued: 10,
  breakerThreshold: 2,
  breakerOpenMs: 60_000,
};

const products = (overrides: Partial<GuardOptions> = {}, cacheTtlMs = 0) =>
  createProductClient({
    baseUrl: simulators.urls.product,
    guard: createGuardedCall({ ...guardOptions, ...overrides }),
    cacheTtlMs,
  });

async function timed<T>(run: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const start = performance.now();
  const result = await run();
  return { result, ms: performance.now() - start };
}

describe('product lookups against the seed product service', () => {
  it('finds classic-box, says not found for an unknown code, and unavailable for veggie-box', async () => {
    const client = products();
    expect(await client.lookup('classic-box')).toEqual({
      kind: 'found',
      value: { code: 'classic-box', name: 'Classic Box', price: 9.99 },
    });
    expect(await client.lookup('no-such-box')).toEqual({ kind: 'not_found' });
    const veggie = await client.lookup('veggie-box');
    expect(veggie.kind === 'unavailable' && veggie.cause).toMatch(/answered 500/);
  });

  it('gives up on family-box (60 s) after the call timeout instead of waiting', async () => {
    const { result, ms } = await timed(() => products().lookup('family-box'));
    expect(result.kind).toBe('unavailable');
    expect(ms).toBeGreaterThanOrEqual(450);
    expect(ms).toBeLessThan(2_000);
  });

  it('opens the circuit of the failing product only: classic-box goes on being found', async () => {
    const client = products();
    await client.lookup('veggie-box');
    await client.lookup('veggie-box');
    const open = await timed(() => client.lookup('veggie-box'));
    expect(open.result).toEqual({ kind: 'unavailable', cause: 'circuit open for veggie-box' });
    expect(open.ms).toBeLessThan(50); // answered without asking the product service (which takes 200 ms)
    expect((await client.lookup('classic-box')).kind).toBe('found');
  });

  it('bounds the calls in flight: a hanging dependency cannot take every socket', async () => {
    const guard = createGuardedCall({
      ...guardOptions,
      maxConcurrent: 2,
      maxQueued: 0,
      breakerThreshold: 100,
    });
    // Three different keys, each waiting on family-box's 60 s answer: two get a slot, the third none.
    const hang = (key: string) =>
      guard(key, async (signal) => {
        await fetch(`${simulators.urls.product}/products/family-box`, { signal });
        return { kind: 'not_found' as const };
      });
    const results = await Promise.all(['a', 'b', 'c'].map(hang));
    expect(results.map((r) => (r.kind === 'unavailable' ? r.cause : r.kind))).toContain(
      'too many calls in flight',
    );
    expect((await products().lookup('classic-box')).kind).toBe('found');
  });

  it('makes one call for many concurrent lookups of the same product', async () => {
    const client = products();
    const before = requests.filter((r) => r.url === '/products/product-C').length;
    const results = await Promise.all(Array.from({ length: 20 }, () => client.lookup('product-C')));
    expect(results.every((r) => r.kind === 'found')).toBe(true);
    expect(requests.filter((r) => r.url === '/products/product-C').length - before).toBe(1);
  });

  it('answers from the cache within its TTL, and asks again after it', async () => {
    const client = products({}, 300);
    expect(await client.lookup('product-A')).not.toHaveProperty('cached');
    expect(await client.lookup('product-A')).toMatchObject({ kind: 'found', cached: true });
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(await client.lookup('product-A')).not.toHaveProperty('cached');
  });
});

describe('user lookups against the seed user service', () => {
  const users = () =>
    createUserClient({
      baseUrl: simulators.urls.user,
      guard: createGuardedCall({ ...guardOptions, breakerThreshold: 5 }),
    });

  it('finds Ada Lovelace and says not found for an unknown user', async () => {
    const client = users();
    expect(await client.lookup('7c11e1ce2741')).toMatchObject({
      kind: 'found',
      value: { firstName: 'Ada', lastName: 'Lovelace' },
    });
    expect(await client.lookup('nobody')).toEqual({ kind: 'not_found' });
  });

  it("sees Alan Turing's service fail its first call and answer the next", async () => {
    const client = users();
    expect((await client.lookup('e6f24d7d1c7e')).kind).toBe('unavailable');
    expect(await client.lookup('e6f24d7d1c7e')).toMatchObject({
      kind: 'found',
      value: { firstName: 'Alan', lastName: 'Turing' },
    });
  });
});
