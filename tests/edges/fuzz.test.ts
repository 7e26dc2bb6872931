import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { request } from 'undici';
import { signToken } from '@platform/auth';
import { TEST_AUTH_SECRET, testToken } from '@platform/testing';
import { startTestSystem, type ServiceName, type TestSystem } from '../saga/system.harness.js';

/**
 * Fuzzing every route of every service (issue 10): requests built from the valid shapes and then broken
 * in every way a client can break them, sent to the whole system running on real PostgreSQL and RabbitMQ.
 * The property: never a 5xx, never a dropped connection, and every service still up afterwards.
 *
 * FUZZ_RUNS sets how many requests (default 3 000); FUZZ_SEED replays a failing run (fast-check prints the
 * seed and the path of the shrunk case when the property fails).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 3_000);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

let system: TestSystem;
/** Bearer tokens a client may send: good ones of both roles, and bad ones of every kind. */
const TOKENS: string[] = [];
/** The index in TOKENS of the operator's. */
const OPERATOR = 2;

beforeAll(async () => {
  const header = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  TOKENS.push(
    await testToken('customer-123'),
    await testToken('7c11e1ce2741'),
    await testToken('operator', { operator: true }),
    await signToken(TEST_AUTH_SECRET, { subject: 'customer-123', roles: [], ttlS: -60 }),
    await signToken('another-secret-that-is-long-enough-32', {
      subject: 'customer-123',
      roles: [],
      ttlS: 60,
    }),
    `${header({ alg: 'none', typ: 'JWT' })}.${header({ sub: 'customer-123', roles: ['operator'] })}.`,
    'a.b.c',
    'x'.repeat(5_000),
  );
  // Every accepted order stays in flight a while: the bound on orders in flight must not be the answer.
  system = await startTestSystem('fuzz', { ORDER_MAX_IN_FLIGHT: '1000000' });
}, 60_000);
afterAll(async () => system.remove());

/** A route template; `{id}` is filled with a generated path segment. */
interface Route {
  service: ServiceName;
  path: string;
  method: string;
  /** The route takes a JSON body. */
  body?: boolean;
  /** Query keys the route knows. */
  query?: string[];
}

const HEALTH = (service: ServiceName): Route[] =>
  ['/health/live', '/health/ready', '/metrics'].map((path) => ({ service, path, method: 'GET' }));

const ROUTES: Route[] = [
  ...['/orders', '/api/orders'].flatMap((base): Route[] => [
    { service: 'order', path: base, method: 'POST', body: true },
    { service: 'order', path: base, method: 'GET', query: ['user_id', 'status', 'limit', 'cursor'] },
    { service: 'order', path: `${base}/{id}`, method: 'GET' },
    { service: 'order', path: `${base}/{id}/cancel`, method: 'POST', body: true },
  ]),
  { service: 'order', path: '/openapi.json', method: 'GET' },
  { service: 'order', path: '/docs', method: 'GET' },
  { service: 'inventory', path: '/stock', method: 'GET' },
  { service: 'inventory', path: '/stock/{id}', method: 'GET' },
  { service: 'payment', path: '/payments/{id}', method: 'GET' },
  { service: 'fulfilment', path: '/placements/{id}', method: 'GET' },
  { service: 'notification', path: '/notifications', method: 'GET', query: ['order_id'] },
  ...(['order', 'inventory', 'payment', 'fulfilment', 'notification'] as const).flatMap(HEALTH),
];

/** Text that hurts: control characters, NUL, unicode, very long, numbers that are not quite numbers. */
const hostileText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\u001b[31m',
    '\ud83d\ude00',
    'é',
    '\u202e',
    ' ',
    '',
    '..',
    '%',
    '%zz',
  ),
  fc.constantFrom('1e309', 'Infinity', '-Infinity', 'NaN', '-1', '0', '1.5', '0x10', '99999999999999999999'),
  fc.string({ minLength: 65, maxLength: 2_000 }),
  fc.uuid().map((uuid) => uuid),
  fc.constantFrom('customer-123', 'classic-box', 'product-A', '7c11e1ce2741'),
);

/** A path segment, percent-encoded, or a raw percent sequence that may not decode at all. */
const segment = fc.oneof(
  hostileText.map((text) => encodeURIComponent(text)),
  fc.constantFrom('%00', '%ff', '%', '%2F', '..%2F..', '%E0%A4%A'),
);

/** A query value, sometimes repeated (an array once parsed). */
const queryValue = fc.oneof(
  hostileText.map((text) => [encodeURIComponent(text)]),
  fc.array(
    hostileText.map((text) => encodeURIComponent(text)),
    { minLength: 2, maxLength: 3 },
  ),
);

const validBodies = [
  { user_id: '7c11e1ce2741', items: [{ product_code: 'classic-box', quantity: 2 }] },
  { user_id: '7c11e1ce2741', product_code: 'classic-box' },
  { customer_id: 'customer-123', items: [{ product_id: 'product-A', quantity: 1 }], total_amount: 50 },
];

/** Sets `value` at a random place inside a copy of `body`. */
function mutate(body: unknown, path: number[], value: unknown): unknown {
  if (typeof body !== 'object' || body === null || path.length === 0) return value;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(body)
    ? [...(body as unknown[])]
    : { ...body };
  const keys = Object.keys(copy);
  const key = keys[(path[0] ?? 0) % Math.max(1, keys.length)] ?? 'extra';
  (copy as Record<string, unknown>)[key] = mutate(
    (copy as Record<string, unknown>)[key],
    path.slice(1),
    value,
  );
  return copy;
}

const jsonBody = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(...validBodies),
      fc.array(fc.nat(5), { maxLength: 4 }),
      fc.jsonValue({ maxDepth: 3 }),
    )
    .map(([body, path, value]) => JSON.stringify(mutate(body, path, value))),
  fc
    .tuple(fc.constantFrom(...validBodies), hostileText)
    .map(([body, text]) =>
      JSON.stringify(body).replace(
        /"(classic-box|product-A|7c11e1ce2741|customer-123)"/,
        JSON.stringify(text),
      ),
    ),
  fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
  fc.constantFrom(
    '{',
    '',
    'null',
    '[]',
    '{"__proto__":{"polluted":true},"user_id":"u1","product_code":"classic-box"}',
    '{"user_id":"u1","items":[{"product_code":"classic-box","quantity":1e309}]}',
    '{"user_id":"u1","items":[{"product_code":"classic-box","quantity":-0}]}',
    `{"user_id":"u1","items":${'['.repeat(500)}${']'.repeat(500)}}`,
  ),
  fc.string({ unit: 'binary', maxLength: 200 }),
);

const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'nonsense',
  undefined,
);

const method = (route: Route) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(route.method) },
    { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD') },
  );

const fuzzedRequest = fc.constantFrom(...ROUTES).chain((route) =>
  fc.record({
    route: fc.constant(route),
    method: method(route),
    segment,
    query: fc.dictionary(
      fc.oneof(
        fc.constantFrom(...(route.query ?? ['x'])),
        fc.string({ maxLength: 10 }).map(encodeURIComponent),
      ),
      queryValue,
      { maxKeys: 4 },
    ),
    body: fc.option(jsonBody, { nil: undefined }),
    contentType,
    correlationId: fc.option(fc.string({ unit: 'grapheme-ascii', maxLength: 200 }), { nil: undefined }),
    // Mostly an operator's token, so that the input behind the guard is fuzzed too; else a token of the
    // list above, none, or a header that is not a token at all.
    authorization: fc.oneof(
      { weight: 6, arbitrary: fc.constant({ token: OPERATOR }) },
      { weight: 1, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.nat(100).map((index) => ({ token: index })) },
      {
        weight: 1,
        arbitrary: fc.oneof(
          fc.string({ unit: 'grapheme-ascii', maxLength: 300 }).map((raw) => ({ raw })),
          fc.string({ unit: 'grapheme-ascii', maxLength: 300 }).map((raw) => ({ raw: `Bearer ${raw}` })),
          fc.constantFrom({ raw: 'Basic dXNlcjpwYXNz' }, { raw: 'Bearer' }, { raw: 'bearer  ' }),
        ),
      },
    ),
    // Mostly what a header may carry (printable ASCII, too long, empty); now and then what it may not.
    idempotencyKey: fc.option(
      fc.oneof(
        { weight: 8, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 300 }) },
        { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
      ),
      { nil: undefined },
    ),
  }),
);

type Fuzzed = typeof fuzzedRequest extends fc.Arbitrary<infer T> ? T : never;

function describeRequest(fuzzed: Fuzzed, path: string): string {
  return `${fuzzed.method} ${fuzzed.route.service}${path} content-type=${String(fuzzed.contentType)} body=${(fuzzed.body ?? '').slice(0, 300)}`;
}

/** Sends one fuzzed request; undefined when the HTTP client itself refused to send it (an invalid header). */
async function send(fuzzed: Fuzzed): Promise<{ status: number; path: string } | undefined> {
  const query = Object.entries(fuzzed.query)
    .flatMap(([key, values]) => values.map((value) => `${key}=${value}`))
    .join('&');
  const path = `${fuzzed.route.path.replace('{id}', fuzzed.segment)}${query ? `?${query}` : ''}`;
  const headers: Record<string, string> = {};
  if (fuzzed.contentType !== undefined) headers['content-type'] = fuzzed.contentType;
  if (fuzzed.idempotencyKey !== undefined) headers['idempotency-key'] = fuzzed.idempotencyKey;
  if (fuzzed.correlationId !== undefined) headers['x-correlation-id'] = fuzzed.correlationId;
  if (fuzzed.authorization !== undefined) {
    headers.authorization =
      'token' in fuzzed.authorization
        ? `Bearer ${TOKENS[fuzzed.authorization.token % TOKENS.length] ?? ''}`
        : fuzzed.authorization.raw;
  }
  const withBody = fuzzed.body !== undefined && !['GET', 'HEAD'].includes(fuzzed.method);
  let response;
  try {
    response = await request(`${system.urls[fuzzed.route.service]}${path}`, {
      method: fuzzed.method as 'GET',
      headers,
      ...(withBody ? { body: fuzzed.body } : {}),
    });
  } catch (error) {
    // undici refuses, before sending, a header value it may not put on the wire: nothing reached a server.
    const code = (error as { code?: string }).code;
    if (code === 'UND_ERR_INVALID_ARG') return undefined;
    throw new Error(`${describeRequest(fuzzed, path)}: no answer (${String(error)})`, { cause: error });
  }
  await response.body.dump();
  return { status: response.statusCode, path };
}

describe('every route of every service, fuzzed', () => {
  it(`never answers a 5xx nor drops the connection (${RUNS} requests)`, async () => {
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(fuzzedRequest, async (fuzzed) => {
        const answer = await send(fuzzed);
        if (!answer) return;
        sent += 1;
        expect(answer.status, describeRequest(fuzzed, answer.path)).toBeLessThan(500);
      }),
      { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
    );
    // Most requests reached a server: the generator is not mostly refused by the client.
    expect(sent).toBeGreaterThan(RUNS * 0.8);
    for (const service of ['order', 'inventory', 'payment', 'fulfilment', 'notification'] as const) {
      const live = await request(`${system.urls[service]}/health/live`);
      await live.body.dump();
      expect(live.statusCode, `${service} still up`).toBe(200);
    }
  }, 300_000);
});
