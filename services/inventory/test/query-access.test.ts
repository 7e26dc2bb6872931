import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testToken } from '@platform/testing';
import { startTestInventory, type TestInventory } from './inventory.harness.js';

// The query APIs of inventory, payment, fulfilment and notification share one guard (issue 13): they are
// operator routes in both modes (SPEC §4.10).
let required: TestInventory;
let optional: TestInventory;

beforeAll(async () => {
  required = await startTestInventory('access_required', { env: { AUTH_MODE: 'required' } });
  optional = await startTestInventory('access_optional');
}, 30_000);

afterAll(async () => {
  await required.remove();
  await optional.remove();
});

const get = async (url: string, token?: string) =>
  fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

describe('the query API', () => {
  it('in required mode: 401 without a token, 403 for a customer, 200 for an operator; probes stay open', async () => {
    const url = `${required.baseUrl}/stock/classic-box`;
    const anonymous = await get(url);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="order-platform"');
    const customer = await get(url, await testToken('customer-123'));
    expect(customer.status).toBe(403);
    expect(await customer.json()).toEqual({ message: 'this route needs the operator role' });
    expect((await get(url, await testToken('ops', { operator: true }))).status).toBe(200);
    expect((await get(`${required.baseUrl}/health/ready`)).status).toBe(200);
    expect((await get(`${required.baseUrl}/metrics`)).status).toBe(200);
  });

  it('in optional mode too: a customer is refused with 403, a bad token with 401', async () => {
    const url = `${optional.baseUrl}/stock/classic-box`;
    expect((await get(url)).status).toBe(401);
    expect((await get(url, 'not-even-a-token')).status).toBe(401);
    expect((await get(url, await testToken('customer-123'))).status).toBe(403);
    expect((await get(url, await testToken('ops', { operator: true }))).status).toBe(200);
  });
});
