import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken, toAuthConfig } from '@platform/auth';
import { TEST_AUTH_SECRET, testToken } from '@platform/testing';
import {
  createTestInfrastructure,
  startOrderService,
  type TestOrderService,
} from './order-service.harness.js';

// Who may do what on the order API (SPEC §4.10 and §5, issue 13), on a real service, database and broker:
// each rule with the tokens of two customers, A and B, and an operator's.
const A = 'customer-a';
const B = 'customer-b';
let infrastructure: Awaited<ReturnType<typeof createTestInfrastructure>>;
let required: TestOrderService;
let optional: TestOrderService;
const tokens = { a: '', b: '', operator: '' };

beforeAll(async () => {
  infrastructure = await createTestInfrastructure('auth');
  required = await startOrderService({ ...infrastructure, env: { AUTH_MODE: 'required' } });
  optional = await startOrderService({ ...infrastructure, env: { AUTH_MODE: 'optional' } });
  tokens.a = await testToken(A);
  tokens.b = await testToken(B);
  tokens.operator = await testToken('ops-1', { operator: true });
}, 30_000);

afterAll(async () => {
  await required.service.stop();
  await optional.service.stop();
  await infrastructure.remove();
});

/** A request with exactly the given token (none when undefined): the harness's default is not used. */
async function call(
  url: string,
  options: { method?: string; token?: string; authorization?: string; body?: unknown; key?: string } = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  if (options.key !== undefined) headers['idempotency-key'] = options.key;
  const response = await fetch(url, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

const orderFor = (userId: string) => ({
  user_id: userId,
  items: [{ product_code: 'classic-box', quantity: 1 }],
});

async function place(base: string, userId: string, token: string): Promise<string> {
  const placed = await call(`${base}/orders`, { token, body: orderFor(userId) });
  expect(placed.status).toBe(201);
  return String(placed.body.id);
}

describe('AUTH_MODE=required', () => {
  it('refuses a call without a token with 401 and a WWW-Authenticate challenge; health and metrics stay open', async () => {
    const base = required.baseUrl;
    for (const [method, path] of [
      ['GET', '/orders'],
      ['POST', '/orders'],
      ['GET', '/orders/5f1c3b8e-0000-4000-8000-000000000000'],
      ['POST', '/orders/5f1c3b8e-0000-4000-8000-000000000000/cancel'],
      ['GET', '/api/orders'],
    ] as const) {
      const response = await call(`${base}${path}`, { method });
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="order-platform"');
      expect(response.body.message).toMatch(/needs a bearer token/);
    }
    expect((await call(`${base}/health/live`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
    expect((await fetch(`${base}/openapi.json`)).status).toBe(200);
  });

  it('lets a customer place, read, list and cancel their own orders, and nobody else’s', async () => {
    const base = required.baseUrl;
    const mine = await place(base, A, tokens.a);
    const theirs = await place(base, B, tokens.b);

    // A's own: readable, listed, cancellable.
    expect((await call(`${base}/orders/${mine}`, { token: tokens.a })).status).toBe(200);
    expect((await call(`${base}/orders/${mine}/events`, { token: tokens.a })).status).toBe(200);
    const listed = await call(`${base}/orders`, { token: tokens.a });
    expect(listed.status).toBe(200);
    const owners = (listed.body.items as { user_id: string }[]).map((order) => order.user_id);
    expect(new Set(owners)).toEqual(new Set([A]));
    expect((await call(`${base}/orders?user_id=${A}`, { token: tokens.a })).status).toBe(200);

    // B's: as if it did not exist (404), and asking for B's list is forbidden (403).
    expect((await call(`${base}/orders/${theirs}`, { token: tokens.a })).status).toBe(404);
    expect((await call(`${base}/api/orders/${theirs}`, { token: tokens.a })).status).toBe(404);
    expect((await call(`${base}/orders/${theirs}/events`, { token: tokens.a })).status).toBe(404);
    expect((await call(`${base}/orders/${theirs}/cancel`, { method: 'POST', token: tokens.a })).status).toBe(
      404,
    );
    expect((await call(`${base}/orders/${theirs}`, { token: tokens.b })).body.status).toBe('PENDING');
    const forbidden = await call(`${base}/orders?user_id=${B}`, { token: tokens.a });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.message).toMatch(/only their own orders/);

    // Placing an order for someone else is forbidden, in every body shape.
    for (const body of [
      orderFor(B),
      { user_id: B, product_code: 'classic-box' },
      { customer_id: B, items: [{ product_id: 'product-A', quantity: 1 }] },
    ]) {
      const response = await call(`${base}/orders`, { token: tokens.a, body });
      expect(response.status, JSON.stringify(body)).toBe(403);
    }

    expect(
      (await call(`${base}/orders/${mine}/cancel`, { method: 'POST', token: tokens.a })).body,
    ).toMatchObject({ status: 'CANCELLED', reason: 'customer_request' });
  });

  it('lets an operator list and read every order and cancel any', async () => {
    const base = required.baseUrl;
    const order = await place(base, B, tokens.b);
    const all = await call(`${base}/orders?limit=100`, { token: tokens.operator });
    const owners = new Set((all.body.items as { user_id: string }[]).map((item) => item.user_id));
    expect(owners).toEqual(new Set([A, B]));
    expect((await call(`${base}/orders?user_id=${B}`, { token: tokens.operator })).status).toBe(200);
    expect((await call(`${base}/orders/${order}`, { token: tokens.operator })).status).toBe(200);
    expect((await call(`${base}/orders/${order}/events`, { token: tokens.operator })).status).toBe(200);
    const cancelled = await call(`${base}/orders/${order}/cancel`, {
      method: 'POST',
      token: tokens.operator,
    });
    expect(cancelled.body).toMatchObject({ status: 'CANCELLED' });
  });

  it('scopes the Idempotency-Key per customer: the same key from two customers places two orders', async () => {
    const base = required.baseUrl;
    const key = 'shared-key-1';
    const first = await call(`${base}/orders`, { token: tokens.a, body: orderFor(A), key });
    const other = await call(`${base}/orders`, { token: tokens.b, body: orderFor(B), key });
    const again = await call(`${base}/orders`, { token: tokens.a, body: orderFor(A), key });
    expect([first.status, other.status, again.status]).toEqual([201, 201, 201]);
    expect(other.body.id).not.toBe(first.body.id);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  it('refuses every kind of bad token with 401 and says why', async () => {
    const base = required.baseUrl;
    const segment = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const secret = new TextEncoder().encode(TEST_AUTH_SECRET);
    const notYet = await new SignJWT({ roles: [] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(A)
      .setNotBefore(Math.floor(Date.now() / 1000) + 3600)
      .setExpirationTime('2h')
      .sign(secret);
    const noSubject = await new SignJWT({ roles: [] })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(secret);
    const cases: [string, string, RegExp][] = [
      [
        'expired',
        `Bearer ${await signToken(TEST_AUTH_SECRET, { subject: A, roles: [], ttlS: -60 })}`,
        /expired/,
      ],
      ['not yet valid', `Bearer ${notYet}`, /not valid yet/],
      [
        'signed with another secret',
        `Bearer ${await signToken('another-secret-that-is-long-enough-1234', { subject: A, roles: [], ttlS: 60 })}`,
        /signature/,
      ],
      [
        'alg none',
        `Bearer ${segment({ alg: 'none', typ: 'JWT' })}.${segment({ sub: A, roles: ['operator'] })}.`,
        /algorithm|malformed/,
      ],
      ['malformed', 'Bearer not.a.token', /malformed/],
      ['no sub', `Bearer ${noSubject}`, /sub/],
      ['not a bearer token', 'Basic dXNlcjpwYXNz', /must be "Bearer <token>"/],
      ['an empty bearer', 'Bearer ', /must be "Bearer <token>"/],
    ];
    for (const [name, authorization, reason] of cases) {
      const response = await call(`${base}/orders`, { authorization });
      expect(response.status, name).toBe(401);
      expect(String(response.body.message), name).toMatch(reason);
      expect(response.headers.get('www-authenticate'), name).toMatch(
        /^Bearer realm="order-platform", error="invalid_(token|request)", error_description="/,
      );
    }
  });

  it('declares the bearer scheme in the OpenAPI document, per route and mode', async () => {
    type OpenApi = {
      components: { securitySchemes: Record<string, { type: string; scheme: string }> };
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    const document = (await (await fetch(`${required.baseUrl}/openapi.json`)).json()) as OpenApi;
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(document.paths['/orders/']?.post?.security).toEqual([{ bearerAuth: [] }]);
    expect(document.paths['/orders/']?.get?.security).toEqual([{ bearerAuth: [] }]);
    expect(document.paths['/orders/{id}/cancel']?.post?.security).toEqual([{ bearerAuth: [] }]);
    // In optional mode, placing and reading an order declare the token optional.
    const open = (await (await fetch(`${optional.baseUrl}/openapi.json`)).json()) as OpenApi;
    expect(open.paths['/orders/']?.post?.security).toEqual([{}, { bearerAuth: [] }]);
    expect(open.paths['/orders/{id}']?.get?.security).toEqual([{}, { bearerAuth: [] }]);
    expect(open.paths['/orders/']?.get?.security).toEqual([{ bearerAuth: [] }]);
  });

  it('refuses a configuration that would accept tokens meant for other applications', () => {
    expect(() =>
      toAuthConfig({ AUTH_MODE: 'required', AUTH_JWKS_URL: 'https://id.example.test/jwks.json' }),
    ).toThrow(/AUTH_ISSUER and AUTH_AUDIENCE/);
    expect(() => toAuthConfig({ AUTH_MODE: 'required' })).toThrow(/needs AUTH_JWT_SECRET/);
  });
});

describe('AUTH_MODE=optional (the default)', () => {
  it('lets anonymous callers place an order and read it by id, as the seeds’ clients do', async () => {
    const base = optional.baseUrl;
    const placed = await call(`${base}/orders`, {
      body: { user_id: '7c11e1ce2741', product_code: 'classic-box' },
    });
    expect(placed.status).toBe(201);
    expect((await call(`${base}/orders/${String(placed.body.id)}`)).status).toBe(200);
    const seed002 = await call(`${base}/api/orders`, {
      body: { customer_id: 'customer-123', items: [{ product_id: 'product-A', quantity: 1 }] },
    });
    expect(seed002.status).toBe(201);
  });

  it('needs a token to list or cancel, and a customer token works as in required mode', async () => {
    const base = optional.baseUrl;
    const order = await place(base, A, tokens.a);
    expect((await call(`${base}/orders`)).status).toBe(401);
    expect((await call(`${base}/orders/${order}/cancel`, { method: 'POST' })).status).toBe(401);
    expect((await call(`${base}/orders/${order}/events`)).status).toBe(401);
    expect((await call(`${base}/orders/${order}`, { token: tokens.b })).status).toBe(404);
    expect((await call(`${base}/orders?user_id=${B}`, { token: tokens.a })).status).toBe(403);
    expect((await call(`${base}/orders`, { token: tokens.b, body: orderFor(A) })).status).toBe(403);
    // A bad token is refused even where no token is needed: a token that was sent must be good.
    expect((await call(`${base}/orders/${order}`, { authorization: 'Bearer not.a.token' })).status).toBe(401);
  });
});

describe('keys from a JWKS URL', () => {
  let jwks: Server;
  let served: JWK[] = [];
  let service: TestOrderService;

  beforeAll(async () => {
    jwks = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ keys: served }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const { port } = jwks.address() as AddressInfo;
    service = await startOrderService({
      ...infrastructure,
      env: {
        AUTH_MODE: 'required',
        AUTH_JWT_SECRET: '',
        AUTH_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`,
        AUTH_ISSUER: 'https://id.example.test/',
        AUTH_AUDIENCE: 'order-platform',
      },
    });
  });

  afterAll(async () => {
    await service.service.stop();
    await new Promise((resolve) => jwks.close(resolve));
  });

  async function keyPair(kid: string) {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
  }
  type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  const sign = (key: PrivateKey, kid: string, claims: { iss?: string; aud?: string } = {}) =>
    new SignJWT({ roles: [] })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setSubject(A)
      .setIssuer(claims.iss ?? 'https://id.example.test/')
      .setAudience(claims.aud ?? 'order-platform')
      .setExpirationTime('5m')
      .sign(key);

  it('verifies tokens against the provider’s keys, checks issuer and audience, and picks up a rotated key', async () => {
    const first = await keyPair('key-1');
    served = [first.jwk];
    const url = `${service.baseUrl}/orders`;
    expect((await call(url, { token: await sign(first.privateKey, 'key-1') })).status).toBe(200);
    const wrongIssuer = await call(url, {
      token: await sign(first.privateKey, 'key-1', { iss: 'https://evil/' }),
    });
    expect(wrongIssuer.status).toBe(401);
    expect(wrongIssuer.body.message).toMatch(/another issuer/);
    const wrongAudience = await call(url, {
      token: await sign(first.privateKey, 'key-1', { aud: 'billing' }),
    });
    expect(wrongAudience.body.message).toMatch(/another audience/);
    // An HS256 token, even signed with the key set's text, is not accepted from a JWKS configuration.
    expect((await call(url, { token: await testToken(A) })).status).toBe(401);

    // The provider rotates: a new key signs, the old one is withdrawn. The set is fetched again (after
    // the verifier's cool-down of 5 s) when a token names a key it does not hold.
    const second = await keyPair('key-2');
    served = [second.jwk];
    await new Promise((resolve) => setTimeout(resolve, 5_200));
    expect((await call(url, { token: await sign(second.privateKey, 'key-2') })).status).toBe(200);
    const unknown = await call(url, { token: await sign((await keyPair('key-3')).privateKey, 'key-3') });
    expect(unknown.status).toBe(401);
  }, 20_000);
});
