import {
  BrokenCircuitError,
  BulkheadRejectedError,
  ConsecutiveBreaker,
  CircuitState,
  bulkhead,
  circuitBreaker,
  handleWhen,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import type { ThirdPartyMetrics } from './third-parties.metrics.js';

/** What a third party said about one key: an answer (found or not), or no usable answer this time. */
export type Lookup<T> =
  { kind: 'found'; value: T } | { kind: 'not_found' } | { kind: 'unavailable'; cause: string };

/** Thrown inside a guarded call for a failure worth retrying (5xx, timeout, connection refused). */
export class TransientFailure extends Error {
  override name = 'TransientFailure';
}

/** How one dependency is protected. */
export interface GuardOptions {
  /** The dependency's name in metrics (`product`, `user`). */
  dependency?: string;
  metrics?: ThirdPartyMetrics;
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
      let open = false;
      breaker.onStateChange((state) => {
        const nowOpen = state === CircuitState.Open || state === CircuitState.Isolated;
        if (nowOpen !== open) metrics?.openCircuits.inc({ dependency }, nowOpen ? 1 : -1);
        open = nowOpen;
      });
      breakers.set(key, breaker);
    }
    return breaker;
  };
  const { metrics } = options;
  const dependency = options.dependency ?? 'unknown';
  const record = <T>(started: number, result: Lookup<T>, outcome?: string): Lookup<T> => {
    metrics?.callDuration.observe(
      { dependency, outcome: outcome ?? result.kind },
      (performance.now() - started) / 1000,
    );
    return result;
  };

  return async <T>(key: string, call: (signal: AbortSignal) => Promise<Lookup<T>>): Promise<Lookup<T>> => {
    const started = performance.now();
    try {
      const result = await limiter.execute(() =>
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
      return record(started, result);
    } catch (error) {
      if (error instanceof TransientFailure)
        return record(started, { kind: 'unavailable', cause: error.message });
      if (error instanceof BrokenCircuitError) {
        return record(started, { kind: 'unavailable', cause: `circuit open for ${key}` }, 'circuit_open');
      }
      if (error instanceof BulkheadRejectedError) {
        return record(started, { kind: 'unavailable', cause: 'too many calls in flight' }, 'rejected');
      }
      throw error;
    }
  };
}
