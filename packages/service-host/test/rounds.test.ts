import { describe, expect, it } from 'vitest';
import { rounds } from '../src/saga-events.js';

describe('rounds', () => {
  it('puts at most one event per order in a round, each order keeping its arrival order', () => {
    const events = ['a1', 'b1', 'a2', 'c1', 'a3', 'b2'];
    expect(rounds(events, (event) => event.charAt(0))).toEqual([['a1', 'b1', 'c1'], ['a2', 'b2'], ['a3']]);
  });

  it('keeps a batch of distinct orders in one round, and an empty batch empty', () => {
    expect(rounds(['x', 'y', 'z'], (event) => event)).toEqual([['x', 'y', 'z']]);
    expect(rounds([], (event: string) => event)).toEqual([]);
  });
});
