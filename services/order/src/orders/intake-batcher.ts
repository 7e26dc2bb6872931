/** Options of a batcher: how many items one run takes, and how many runs may overlap. */
export interface BatcherOptions {
  maxBatch: number;
  maxConcurrentBatches: number;
}

/**
 * Coalesces concurrent calls into batches (a group commit). Items that arrive while the allowed number of
 * batches is in flight wait and leave together in the next batch; a lone call leaves at once. `run` must
 * return one result per item, in order; if it throws, every caller of that batch gets the error.
 */
export function createBatcher<I, O>(
  run: (items: I[]) => Promise<O[]>,
  options: BatcherOptions,
): (item: I) => Promise<O> {
  const waiting: { item: I; resolve: (value: O) => void; reject: (error: unknown) => void }[] = [];
  let inFlight = 0;
  let scheduled = false;

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
        });
    }
  }

  // Deferred to the end of the current I/O phase, so requests parsed in the same tick share a batch.
  function schedule(): void {
    if (scheduled || waiting.length === 0) return;
    scheduled = true;
    setImmediate(dispatch);
  }

  return (item) =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      schedule();
    });
}
