import { describe, expect, it } from 'vitest';
import { nextHop } from '../src/consumer.js';

const policy = { maxAttempts: 4, retryDelaysMs: [1000, 5000, 1000] };

describe('where a failed delivery goes next', () => {
  it('follows the configured schedule, in order, then dead-letters after the last attempt', () => {
    const hops = [1, 2, 3, 4].map((attempt) => nextHop({ ...policy, attempt, transient: false }));
    expect(hops).toEqual([
      { outcome: 'retried', attempt: 2, delayMs: 1000 },
      { outcome: 'retried', attempt: 3, delayMs: 5000 },
      { outcome: 'retried', attempt: 4, delayMs: 1000 },
      { outcome: 'dead_lettered', attempt: 4 },
    ]);
  });

  it('repeats the last delay when there are more attempts than delays', () => {
    expect(nextHop({ maxAttempts: 10, retryDelaysMs: [100, 300], attempt: 6, transient: false })).toEqual({
      outcome: 'retried',
      attempt: 7,
      delayMs: 300,
    });
  });

  it('defers a transient failure by the longest delay without using an attempt, even at the limit', () => {
    expect(nextHop({ ...policy, attempt: 4, transient: true })).toEqual({
      outcome: 'deferred',
      attempt: 4,
      delayMs: 5000,
    });
  });
});
