import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProductSimulator, type RequestLogEntry, type RunningSimulator } from '../src/index.js';
import { atLeast, get, post } from './simulators.harness.js';

let product: RunningSimulator;
const requests: RequestLogEntry[] = [];

beforeAll(async () => {
  product = await startProductSimulator({ port: 0, onRequest: (entry) => requests.push(entry) });
});

afterAll(async () => {
  await product.close();
});

describe('product simulator, seed profile (seed 000)', () => {
  it('answers classic-box after 200 ms', async () => {
    const answer = await get(`${product.url}/products/classic-box`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ code: 'classic-box', name: 'Classic Box', price: 9.99 });
    expect(answer.ms).toBeGreaterThanOrEqual(atLeast(200));
  });

  it('fails veggie-box with a body-less 500 after 200 ms', async () => {
    const answer = await get(`${product.url}/products/veggie-box`);
    expect(answer.status).toBe(500);
    expect(answer.text).toBe('');
    expect(answer.ms).toBeGreaterThanOrEqual(atLeast(200));
  });

  it('does not answer family-box within a client timeout, and frees the request when the client gives up', async () => {
    const startedAt = performance.now();
    await expect(
      fetch(`${product.url}/products/family-box`, { signal: AbortSignal.timeout(1000) }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(performance.now() - startedAt).toBeLessThan(5_000);
    const familyBox = () => requests.find(({ url }) => url === '/products/family-box');
    await expect.poll(familyBox).toBeDefined();
    expect(familyBox()).toMatchObject({ simulator: 'product', aborted: true });
    expect(familyBox()?.status).toBeUndefined();
  });

  it.each([
    ['product-A', 'Product A', 50],
    ['product-B', 'Product B', 50],
    ['product-C', 'Product C', 25],
  ])('answers %s at once', async (code, name, price) => {
    const answer = await get(`${product.url}/products/${code}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ code, name, price });
    expect(answer.ms).toBeLessThan(150);
  });

  it.each(['unknown-box', 'constructor', '__proto__'])(
    'answers 404 for an unknown code (%s)',
    async (code) => {
      const answer = await get(`${product.url}/products/${code}`);
      expect(answer.status).toBe(404);
      expect(answer.body).toEqual({ message: `Product ${code} not found` });
    },
  );

  it('serves /health, and 404/405 with a message for unknown routes and methods', async () => {
    expect((await get(`${product.url}/health`)).status).toBe(200);
    expect((await get(`${product.url}/nothing-here`)).status).toBe(404);
    const wrongMethod = await post(`${product.url}/products/classic-box`, {});
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.body.message).toMatch(/POST is not allowed/);
  });

  it('logs each request with its outcome', async () => {
    await get(`${product.url}/products/product-A`);
    await expect
      .poll(() => requests.at(-1))
      .toMatchObject({
        simulator: 'product',
        method: 'GET',
        url: '/products/product-A',
        status: 200,
        aborted: false,
      });
  });
});
