/**
 * What `decide` answers: the changes alone, or a decision value that carries them (`changes`) with what
 * else the caller needs (an outcome for logs and metrics, an event to publish, …).
 */
export type Decided<Change> = readonly Change[] | { readonly changes: readonly Change[] };

/**
 * One shape for every service's rules (issue 24), after the decider of oskardudycz's EventSourcing.NodeJS
 * samples (`decide`, `evolve`, `getInitialState`), here with the state first in `decide`, as the order's
 * state machine always had it:
 * - `initial`: the state before anything happened (no row yet, mostly), or a function giving it, for a
 *   state that must not be shared (one holding a `Map`);
 * - `decide(state, input)`: what an input changes, as changes (or a decision that carries them), decided
 *   from the state alone; pure: no clock, no I/O (a time the rules need comes in the input);
 * - `evolve(state, change)`: the state one change leaves; pure. The state after an input is its changes
 *   folded over the state before (`evolveAll`).
 * A repository applies (writes) the changes decided and never decides again: what it stores is what
 * `evolve` gives, so that a test of `decide` and `evolve` is a test of what the service stores, without a
 * database. A decider's state holds what its decisions read: a column only the database sets (a time of
 * its clock, the trace) is left out of it, or kept as it was.
 */
export interface Decider<State, Input, Change, Decision extends Decided<Change> = readonly Change[]> {
  /** The state before anything happened, or a function giving a fresh one. */
  readonly initial: State | (() => State);
  /** What `input` changes in `state`. Pure. */
  readonly decide: (state: State, input: Input) => Decision;
  /** The state `change` leaves. Pure. */
  readonly evolve: (state: State, change: Change) => State;
}

/** The decider's state before anything happened (a fresh one when `initial` is a function). */
export function initialStateOf<State>(decider: Pick<Decider<State, never, never>, 'initial'>): State {
  const { initial } = decider;
  // A state that is itself a function cannot be told from a function giving it: no decider has one.
  return typeof initial === 'function' ? (initial as () => State)() : initial;
}

/** The changes a decision carries, whichever of the two forms `decide` answered in. */
export function changesOf<Change>(decided: Decided<Change>): readonly Change[] {
  return 'changes' in decided ? decided.changes : decided;
}

/** The state `changes` leave, applied one after the other from `state`. */
export function evolveAll<State, Change>(
  decider: Pick<Decider<State, never, Change>, 'evolve'>,
  state: State,
  changes: readonly Change[],
): State {
  return changes.reduce<State>((current, change) => decider.evolve(current, change), state);
}
