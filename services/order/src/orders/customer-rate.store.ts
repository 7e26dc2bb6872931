import { createRequire } from 'node:module';
import type { FastifyRateLimitStore } from '@fastify/rate-limit';

type Incr = FastifyRateLimitStore['incr'];

/** @fastify/rate-limit's in-memory store (fixed windows in an LRU map); not among its typed exports. */
const LocalStore = createRequire(import.meta.url)('@fastify/rate-limit/store/LocalStore.js') as new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  cache?: number,
) => { incr: Incr };

/**
 * The customers tracked at once; past it the least recently seen is forgotten (and starts a new window).
 * 100 000 entries of a few dozen bytes each: a few MB.
 */
const CUSTOMERS_TRACKED = 100_000;

/**
 * One store of per-customer counters for every rate-limited route of an app. @fastify/rate-limit gives
 * each route a store of its own (`child`), so that `POST /orders` and its seed-002 copy
 * `POST /api/orders` would each allow a customer the whole rate: here `child` is the store itself, and the
 * routes' `groupId` keeps placements and cancellations apart. A class, because the plugin constructs it.
 */
export class CustomerRateStore implements FastifyRateLimitStore {
  private readonly counters = new LocalStore(false, false, CUSTOMERS_TRACKED);

  incr(...args: Parameters<Incr>): void {
    this.counters.incr(...args);
  }

  child(): this {
    return this;
  }
}
