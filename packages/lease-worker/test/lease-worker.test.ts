import { describe, expect, it } from 'vitest';
import { createLogger } from '@platform/observability';
import { startLeaseWorker, type WorkOutcome } from '../src/lease-worker.js';

const logger = createLogger({ service: 'test', level: 'silent' });

/** A worker whose store is nothing (no lease ever found): work only comes through `submit`. */
function workerOf(process: (item: string) => Promise<WorkOutcome>, concurrency = 1) {
  const released: string[] = [];
  const worker = startLeaseWorker<string>({
    lease: async () => [],
    process,
    release: async (items) => void released.push(...items),
    describe: (item) => ({ item }),
    concurrency,
    pollIntervalMs: 60_000,
    logger,
  });
  return { worker, released };
}

describe('a lease worker', () => {
  it('starts other work while an item waits out its backoff, then attempts that item again', async () => {
    const attempts: string[] = [];
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const { worker } = workerOf(async (item) => {
      attempts.push(item);
      if (item === 'slow' && attempts.filter((a) => a === 'slow').length === 1) return { resumeInMs: 100 };
      if (item === 'slow') resolveDone();
      return undefined;
    });
    worker.submit(['slow', 'other']);
    await done;
    // With one slot, 'other' ran while 'slow' rested: it did not wait for the second attempt.
    expect(attempts).toEqual(['slow', 'other', 'slow']);
    await worker.stop();
  });

  it('hands back, on stop, an item resting between attempts', async () => {
    let rested!: () => void;
    const resting = new Promise<void>((resolve) => (rested = resolve));
    const { worker, released } = workerOf(async () => {
      rested();
      return { resumeInMs: 60_000 };
    });
    worker.submit(['kept']);
    await resting;
    await worker.stop();
    expect(released).toEqual(['kept']);
  });
});
