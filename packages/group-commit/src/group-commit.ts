/** How much one run takes, how many runs may overlap, and how many callers may wait. */
export interface GroupCommitOptions {
  /** Most items one run takes. */
  maxBatch: number;
  /** Runs in flight at once; 1 makes the runs strictly one after the other. */
  maxConcurrentBatches: number;
  /** Callers that may wait for a run; one more is refused at once with `GroupCommitFull`. Unbounded if absent. */
  maxWaiting?: number;
}

/** Thrown at a caller when `maxWaiting` callers already wait: the work was not taken, nothing was done. */
export class GroupCommitFull extends Error {
  readonly code = 'GROUP_COMMIT_FULL';
  constructor(readonly waiting: number) {
    super(`${waiting} items already wait for a run`);
    this.name = 'GroupCommitFull';
  }
}

/** A running group commit. */
export interface GroupCommit<I, O> {
  /** Resolves with this item's result once the run that took it finished; rejects with the run's error. */
  submit: (item: I) => Promise<O>;
  /** Items waiting for a run (not those in runs in flight). */
  waiting: () => number;
  /** Resolves once no item waits and no run is in flight. */
  idle: () => Promise<void>;
}

/**
 * Coalesces concurrent calls into runs (a group commit): items that arrive while the allowed number of
 * runs is in flight wait and leave together in the next run, so N concurrent callers cost one
 * transaction, not N; a lone call leaves at once. `run` must return one result per item, in the items' sequence; if it
 * throws, every caller of that run gets the error.
 */
export function createGroupCommit<I, O>(
  run: (items: I[]) => Promise<O[]>,
  options: GroupCommitOptions,
): GroupCommit<I, O> {
  const waiting: { item: I; resolve: (value: O) => void; reject: (error: unknown) => void }[] = [];
  let inFlight = 0;
  let scheduled = false;
  let idleWaiters: (() => void)[] = [];

  function dispatch(): void {
    scheduled = false;
    while (inFlight < options.maxConcurrentBatches && waiting.length > 0) {
      const batch = waiting.splice(0, options.maxBatch);
      inFlight += 1;
      // Started inside a promise, so even a run that throws synchronously fails only its own batch.
      Promise.resolve()
        .then(() => run(batch.map((entry) => entry.item)))
        .then((results) => {
          if (results.length !== batch.length)
            throw new Error(`batch of ${batch.length} got ${results.length} results`);
          batch.forEach((entry, i) => entry.resolve(results[i] as O));
        })
        .catch((error: unknown) => batch.forEach((entry) => entry.reject(error)))
        .finally(() => {
          inFlight -= 1;
          schedule();
          if (inFlight === 0 && waiting.length === 0) {
            const waiters = idleWaiters;
            idleWaiters = [];
            for (const resolve of waiters) resolve();
          }
        });
    }
  }

  // Deferred to the end of the current I/O phase, so calls made in the same tick share a run.
  function schedule(): void {
    if (scheduled || waiting.length === 0) return;
    scheduled = true;
    setImmediate(dispatch);
  }

  return {
    submit(item) {
      if (options.maxWaiting !== undefined && waiting.length >= options.maxWaiting) {
        return Promise.reject(new GroupCommitFull(waiting.length));
      }
      return new Promise<O>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        schedule();
      });
    },
    waiting: () => waiting.length,
    idle() {
      if (inFlight === 0 && waiting.length === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}
