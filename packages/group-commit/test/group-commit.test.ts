import { describe, expect, it } from 'vitest';
import { createGroupCommit, GroupCommitFull } from '../src/index.js';

/** A run whose batches the test releases by hand, recording their sizes. */
function controlledRun() {
  const batches: number[][] = [];
  const releases: (() => void)[] = [];
  const run = (items: number[]) =>
    new Promise<number[]>((resolve) => {
      batches.push(items);
      releases.push(() => resolve(items.map((n) => n * 10)));
    });
  return { run, batches, releases };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('createGroupCommit', () => {
  it('sends a lone call at once, in a batch of one', async () => {
    const { run, batches, releases } = controlledRun();
    const { submit } = createGroupCommit(run, { maxBatch: 10, maxConcurrentBatches: 1 });
    const result = submit(7);
    await tick();
    expect(batches).toEqual([[7]]);
    releases[0]?.();
    expect(await result).toBe(70);
  });

  it('coalesces calls that wait behind a busy batch, and keeps each caller its own result', async () => {
    const { run, batches, releases } = controlledRun();
    const { submit } = createGroupCommit(run, { maxBatch: 10, maxConcurrentBatches: 1 });
    const first = submit(1);
    await tick();
    const rest = [2, 3, 4].map((n) => submit(n));
    await tick();
    expect(batches).toEqual([[1]]); // the others wait: one batch in flight at most
    releases[0]?.();
    await first;
    await tick();
    await tick(); // the next batch leaves on the immediate after the first one settles
    expect(batches).toEqual([[1], [2, 3, 4]]);
    releases[1]?.();
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
  });

  it('never exceeds maxBatch or maxConcurrentBatches', async () => {
    const { run, batches, releases } = controlledRun();
    const { submit } = createGroupCommit(run, { maxBatch: 3, maxConcurrentBatches: 2 });
    const all = Array.from({ length: 10 }, (_, i) => submit(i));
    await tick();
    expect(batches.map((b) => b.length)).toEqual([3, 3]);
    while (releases.length > 0) {
      releases.shift()?.();
      await tick();
      await tick();
    }
    expect(await Promise.all(all)).toEqual(Array.from({ length: 10 }, (_, i) => i * 10));
    expect(batches.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(3);
  });

  it('fails every caller of a failed batch, and only them', async () => {
    let calls = 0;
    const { submit } = createGroupCommit(
      async (items: number[]) => {
        calls += 1;
        if (calls === 1) throw new Error('database down');
        return items;
      },
      { maxBatch: 2, maxConcurrentBatches: 1 },
    );
    const results = await Promise.allSettled([submit(1), submit(2), submit(3)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
  });

  it('rejects a batch whose run returns the wrong number of results', async () => {
    const { submit } = createGroupCommit(async () => [], { maxBatch: 5, maxConcurrentBatches: 1 });
    await expect(submit(1)).rejects.toThrow(/got 0 results/);
  });

  it('refuses a caller at once when maxWaiting callers already wait, and takes more once they left', async () => {
    const { run, releases } = controlledRun();
    const commit = createGroupCommit(run, { maxBatch: 10, maxConcurrentBatches: 1, maxWaiting: 2 });
    const first = commit.submit(1);
    await tick(); // the first run is in flight; what comes now waits
    const waiting = [commit.submit(2), commit.submit(3)];
    await expect(commit.submit(4)).rejects.toBeInstanceOf(GroupCommitFull);
    expect(commit.waiting()).toBe(2);
    releases[0]?.();
    await first;
    await tick();
    await tick();
    releases[1]?.();
    expect(await Promise.all(waiting)).toEqual([20, 30]);
    const later = commit.submit(5);
    await tick();
    releases[2]?.();
    expect(await later).toBe(50);
    await commit.idle();
  });
});
