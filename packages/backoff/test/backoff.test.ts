import { describe, expect, it } from 'vitest';
import { backoffMs } from '../src/index.js';

const policy = { baseMs: 100, maxMs: 1_000 };

describe('backoff', () => {
  it('doubles the ceiling after each failure up to the cap', () => {
    const ceilings = [1, 2, 3, 4, 5, 10].map((failures) =>
      backoffMs(failures, policy, 'full', () => 0.999_999),
    );
    expect(ceilings.map(Math.round)).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('waits anywhere under the ceiling with full jitter, and from half of it with equal jitter', () => {
    expect(backoffMs(3, policy, 'full', () => 0)).toBe(0);
    expect(backoffMs(3, policy, 'full', () => 0.5)).toBe(200);
    expect(backoffMs(3, policy, 'equal', () => 0)).toBe(200);
    expect(backoffMs(3, policy, 'equal', () => 0.999_999)).toBe(400);
  });

  it('treats zero failures like the first', () => {
    expect(backoffMs(0, policy, 'equal', () => 0)).toBe(50);
  });
});
