import {
  BrokenCircuitError,
  BulkheadRejectedError,
  ConsecutiveBreaker,
  bulkhead,
  circuitBreaker,
  handleWhen,
  type CircuitBreakerPolicy,
} from 'cockatiel';

/** What a third party said about one key: an answer (found or not), or no usable answer this time. */
export type Lookup<T> =
  { kind: 'found'; value: T } | { kind: 'not_found' } | { kind: 'unavailable'; cause: string };

/** Thrown inside a guarded call for a failure worth retrying (5xx, timeout, connection refused). */
export class TransientFailure extends Error {
  override name = 'TransientFailure';
}

/** How one dependency is protected. */
export interface GuardOptions {
  /** Each call's own time limit: nothing waits on a hanging dependency longer than this. */
  callTimeoutMs: number;
  /** Calls in flight at once to this dependency; more wait in a bounded queue, the rest fail fast. */
  maxConcurrent: number;
  maxQueued: number;
  /** Consecutive transient failures of one key that open its circuit, and how long it stays open. */
  breakerThreshold: number;
  breakerOpenMs: number;
}

/** Runs a call for a key under the dependency's bulkhead, the key's circuit breaker and a timeout. */
export type GuardedCall = <T>(
  key: string,
  call: (signal: AbortSignal) => Promise<Lookup<T>>,
) => Promise<Lookup<T>>;

/**
 * Protection for one dependency. Circuits are keyed by what fails (a product code, a user id), not by the
 * dependency: `veggie-box` failing opens `veggie-box`'s circuit only, and `classic-box` lookups go on. The
 * bulkhead is per dependency, so a hanging key cannot hold more than its share of sockets and memory.
 */
export function createGuardedCall(options: GuardOptions): GuardedCall {
  const limiter = bulkhead(options.maxConcurrent, options.maxQueued);
  const breakers = new Map<string, CircuitBreakerPolicy>();
  const breakerFor = (key: string): CircuitBreakerPolicy => {
    let breaker = breakers.get(key);
    if (!breaker) {
      breaker = circuitBreaker(
        handleWhen((error) => error instanceof TransientFailure),
        { halfOpenAfter: options.breakerOpenMs, breaker: new ConsecutiveBreaker(options.breakerThreshold) },
      );
      breakers.set(key, breaker);
    }
    return breaker;
  };

  return async <T>(key: string, call: (signal: AbortSignal) => Promise<Lookup<T>>): Promise<Lookup<T>> => {
    try {
      return await limiter.execute(() =>
        breakerFor(key).execute(async () => {
          const signal = AbortSignal.timeout(options.callTimeoutMs);
          try {
            return await call(signal);
          } catch (error) {
            if (error instanceof TransientFailure) throw error;
            // fetch rejects with a TimeoutError on our limit, a TypeError on a refused connection.
            throw new TransientFailure(error instanceof Error ? error.message : String(error), {
              cause: error,
            });
          }
        }),
      );
    } catch (error) {
      if (error instanceof TransientFailure) return { kind: 'unavailable', cause: error.message };
      if (error instanceof BrokenCircuitError)
        return { kind: 'unavailable', cause: `circuit open for ${key}` };
      if (error instanceof BulkheadRejectedError)
        return { kind: 'unavailable', cause: 'too many calls in flight' };
      throw error;
    }
  };
}
