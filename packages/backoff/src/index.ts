/** Capped exponential backoff: `baseMs` before attempt 2, twice that before attempt 3, …, never above `maxMs`. */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/**
 * How jitter spreads the waits of many callers that failed together, so they do not retry in lockstep
 * (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * - `full`: anywhere from 0 to the ceiling (the least contention; some waits are very short);
 * - `equal`: from half the ceiling to all of it (never hammers a dependency that just failed).
 */
export type Jitter = 'full' | 'equal';

/**
 * The one backoff of the platform: the wait in ms before the next try, after `failures` failures in a row
 * (1 for the first). The ceiling is `min(maxMs, baseMs × 2^(failures − 1))`, and `jitter` places the wait
 * under it with `random` (in [0, 1), `Math.random` by default). `equal` waits are whole milliseconds.
 */
export function backoffMs(
  failures: number,
  policy: BackoffPolicy,
  jitter: Jitter,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  return jitter === 'full' ? random() * ceiling : Math.round(ceiling * (0.5 + random() / 2));
}
