import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { operatorHeaders } from '@platform/testing';
import { startTestSystem, type ServiceName, type TestSystem } from '../saga/system.harness.js';

let system: TestSystem;
/** An operator may list every order: the input is what is under test here, not the rights. */
const asOperator = async () => ({ headers: await operatorHeaders() });

beforeAll(async () => {
  system = await startTestSystem('edges');
}, 60_000);
afterAll(async () => system.remove());

/**
 * What a fuzzer found answering `500` (issue 10): text with a NUL character reaching PostgreSQL, and
 * numbers that coerce to infinity. Each must be a client error that names the field, and store nothing.
 */
const FOUND: [ServiceName, string, string][] = [
  ['order', '/orders?user_id=%00', 'user_id'],
  ['order', '/orders?user_id=ab%00cd&limit=5', 'user_id'],
  ['order', '/api/orders?user_id=%00', 'user_id'],
  ['order', '/orders?limit=1e309', 'limit'],
  ['order', '/orders?limit=Infinity', 'limit'],
  ['inventory', '/stock/%00', 'product_code'],
  ['inventory', '/stock/classic%00box', 'product_code'],
  ['payment', '/payments/%00', 'order_id'],
  ['fulfilment', '/placements/%00', 'order_id'],
  ['notification', '/notifications?order_id=%00', 'order_id'],
];

describe('input a database would refuse never reaches it', () => {
  it.each(FOUND)('%s %s answers 422 {message, errors} naming %s', async (service, path, field) => {
    const response = await request(`${system.urls[service]}${path}`, await asOperator());
    const body = (await response.body.json()) as {
      message: unknown;
      errors: { path: string; message: string }[];
    };
    // One error contract in every service (one HTTP shell): 422, a message, and each problem's path.
    expect(response.statusCode, JSON.stringify(body)).toBe(422);
    expect(body.message).toMatch(/^Invalid (querystring|params)$/);
    expect(body.errors.map((error) => error.path).join(' ')).toContain(field);
  });

  it('still answers a plain limit above the bound with 422, and a good request with 200', async () => {
    const tooMany = await request(`${system.urls.order}/orders?limit=1e3`, await asOperator());
    expect(tooMany.statusCode).toBe(422);
    expect(await tooMany.body.text()).toContain('must be <= 100');
    const fine = await request(
      `${system.urls.order}/orders?user_id=customer-123&limit=5`,
      await asOperator(),
    );
    expect(fine.statusCode).toBe(200);
    await fine.body.dump();
  });
});
