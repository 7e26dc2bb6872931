import { describe, expect, it } from 'vitest';
import { changesOf, evolveAll, initialStateOf, type Decider } from '../src/index.js';

// A counter: the smallest decider, in both forms `decide` may answer in.
type Counted = { kind: 'added'; by: number };
const counter: Decider<number, number, Counted> = {
  initial: 0,
  decide: (_state, by) => (by === 0 ? [] : [{ kind: 'added', by }]),
  evolve: (state, change) => state + change.by,
};
const tally: Decider<number[], number, Counted, { outcome: string; changes: Counted[] }> = {
  // A function: each caller gets an array of its own.
  initial: () => [],
  decide: (_state, by) => ({ outcome: 'added', changes: [{ kind: 'added', by }] }),
  evolve: (state, change) => [...state, change.by],
};

describe('decider', () => {
  it('gives the initial state, or a fresh one from a function', () => {
    expect(initialStateOf(counter)).toBe(0);
    const first = initialStateOf(tally);
    expect(first).toEqual([]);
    expect(initialStateOf(tally)).not.toBe(first);
  });

  it('reads the changes of a decision in either form', () => {
    expect(changesOf(counter.decide(0, 2))).toEqual([{ kind: 'added', by: 2 }]);
    expect(changesOf(counter.decide(0, 0))).toEqual([]);
    expect(changesOf(tally.decide([], 3))).toEqual([{ kind: 'added', by: 3 }]);
  });

  it('folds changes over a state, one after the other, leaving the state it started from alone', () => {
    const start = initialStateOf(tally);
    const changes = [1, 2, 3].flatMap((by) => changesOf(tally.decide(start, by)));
    expect(evolveAll(tally, start, changes)).toEqual([1, 2, 3]);
    expect(start).toEqual([]);
    expect(evolveAll(counter, 5, [])).toBe(5);
  });
});
