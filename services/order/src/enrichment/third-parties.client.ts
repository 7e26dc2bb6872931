import { Pool } from 'undici';
import type { GuardedCall, Lookup } from './guarded-calls.js';
import { TransientFailure } from './guarded-calls.js';
import type { ThirdPartyMetrics } from './third-parties.metrics.js';

/** A product as the product service describes it. */
export interface Product {
  code: string;
  name: string;
  price: number;
}

/** A customer as the user service describes them. */
export interface User {
  id: string;
  firstName: string;
  lastName: string;
}

/**
 * A third party's HTTP API on a pool of kept-alive connections (undici's `Pool`: a tenth of the CPU of
 * `fetch` per call, which builds web streams and Request/Response objects).
 */
function connectTo(baseUrl: string) {
  const base = new URL(baseUrl);
  const pool = new Pool(base.origin);
  const prefix = base.pathname.replace(/\/+$/, '');
  return {
    /** GETs `path` and turns the answer into a lookup: 200 found, 404 not found, anything else transient. */
    async getJson<T>(
      path: string,
      signal: AbortSignal,
      isValid: (body: unknown) => body is T,
    ): Promise<Lookup<T>> {
      const url = `${base.origin}${prefix}${path}`;
      const response = await pool.request({
        method: 'GET',
        path: `${prefix}${path}`,
        signal,
        headers: { accept: 'application/json' },
      });
      if (response.statusCode === 404) {
        await response.body.dump();
        return { kind: 'not_found' };
      }
      if (response.statusCode !== 200) {
        await response.body.dump();
        throw new TransientFailure(`${url} answered ${response.statusCode}`);
      }
      const body: unknown = await response.body.json().catch(() => undefined);
      // A 200 we cannot read is the dependency misbehaving, not an answer about the key.
      if (!isValid(body)) throw new TransientFailure(`${url} answered 200 with an unexpected body`);
      return { kind: 'found', value: body };
    },
    close: () => pool.close(),
  };
}

const isProduct = (body: unknown): body is Product =>
  typeof body === 'object' &&
  body !== null &&
  typeof (body as Product).code === 'string' &&
  typeof (body as Product).name === 'string' &&
  typeof (body as Product).price === 'number' &&
  Number.isFinite((body as Product).price);

const isUser = (body: unknown): body is User =>
  typeof body === 'object' &&
  body !== null &&
  typeof (body as User).firstName === 'string' &&
  typeof (body as User).lastName === 'string';

/** Looks products up, answering from a short-lived cache of what the product service said. */
export function createProductClient(options: {
  baseUrl: string;
  guard: GuardedCall;
  cacheTtlMs: number;
  metrics?: ThirdPartyMetrics;
}) {
  const cache = new Map<string, { product: Product; at: number }>();
  const inFlight = new Map<string, Promise<Lookup<Product>>>();
  const service = connectTo(options.baseUrl);
  return {
    async lookup(code: string): Promise<Lookup<Product> & { cached?: boolean }> {
      const hit = cache.get(code);
      // Never older than the TTL: a price read before that is not used to price an order.
      if (hit && Date.now() - hit.at < options.cacheTtlMs) {
        options.metrics?.productCache.inc({ result: 'hit' });
        return { kind: 'found', value: hit.product, cached: true };
      }
      // Orders for the same product arriving together share one call instead of each asking.
      const pending = inFlight.get(code);
      if (pending) {
        options.metrics?.productCache.inc({ result: 'shared' });
        return pending;
      }
      options.metrics?.productCache.inc({ result: 'miss' });
      const call = options
        .guard(code, (signal) => service.getJson(`/products/${encodeURIComponent(code)}`, signal, isProduct))
        .then((result) => {
          if (result.kind === 'found') cache.set(code, { product: result.value, at: Date.now() });
          return result;
        });
      inFlight.set(code, call);
      try {
        return await call;
      } finally {
        inFlight.delete(code);
      }
    },
    close: () => service.close(),
  };
}

/** Looks users up. */
export function createUserClient(options: { baseUrl: string; guard: GuardedCall }) {
  const service = connectTo(options.baseUrl);
  return {
    lookup(id: string): Promise<Lookup<User>> {
      return options.guard(id, (signal) =>
        service.getJson(`/users/${encodeURIComponent(id)}`, signal, isUser),
      );
    },
    close: () => service.close(),
  };
}
