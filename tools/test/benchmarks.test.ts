import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// Every benchmark the README documents runs, at its smallest setting (SPEC §8): a schema change cannot
// silently break one (bench:intake's raw baseline once wrote a column that had been dropped).
const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const bench = (script: string, env: Record<string, string>, timeout: number) =>
  run(process.execPath, [script], {
    cwd: root,
    env: { ...process.env, ...env },
    timeout,
    maxBuffer: 16 << 20,
  });

describe('the benchmarks at their smallest settings', () => {
  it('bench:intake measures the API against the raw baseline and prints its table', async () => {
    const { stdout } = await bench(
      'services/order/dist/bench/intake.bench.js',
      { BENCH_DURATION_S: '1', BENCH_WARMUP_S: '0', BENCH_CONNECTIONS: '1' },
      120_000,
    );
    expect(stdout).toMatch(/^\|\s+1 \|\s+\d+ \|/m);
  }, 130_000);

  it('bench:queues measures both queue types and prints their ratio', async () => {
    const { stdout } = await bench(
      'tools/dist/bench-queues/main.js',
      { BENCH_QUEUES_RATES: '20', BENCH_QUEUES_SECONDS: '1', BENCH_QUEUES_ROUNDS: '1' },
      120_000,
    );
    // One second at 20 messages a second is within the broker's idle noise: a figure may come out below
    // zero (its idle rate is subtracted), so only the table's shape is checked here.
    expect(stdout).toMatch(/^\|\s+20 \|\s+-?\d+ \|\s+-?\d+ \|\s+(?:-?[\d.]+|-?Infinity|NaN) \|$/m);
  }, 130_000);

  it('bench:e2e brings a system up, measures a step and reports every process and the targets', async () => {
    const output = `/tmp/bench-e2e-test-${process.pid}.json`;
    const { stdout } = await bench(
      'tools/dist/bench-e2e/main.js',
      {
        BENCH_LIGHT_RATE: '5',
        BENCH_RATES: '10',
        BENCH_DURATION_S: '4',
        BENCH_DRAIN_S: '10',
        BENCH_WARMUP_S: '0',
        BENCH_IDLE_S: '1',
        BENCH_SINGLE_PRODUCT_RATES: 'none',
        BENCH_OVERLOAD_FACTOR: '0',
        BENCH_FLOOD_FACTOR: '0',
        BENCH_TWICE: 'false',
        BENCH_HALF: 'false',
        BENCH_OUTPUT: output,
      },
      240_000,
    ).finally(() => rm(output, { force: true }));
    expect(stdout).toMatch(/machine reference: JavaScript work \d+ ms/);
    expect(stdout).toMatch(/\[this\] mixed 10\/s: accepted 40\/40/);
    expect(stdout).toContain('Wake-ups per final order, by process');
    expect(stdout).toContain('Targets (issue 21');
  }, 250_000);

  it('bench:profiles summarises the CPU profiles a run wrote', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-profiles-'));
    try {
      // A process that works a little under --cpu-prof, as each process of a profiled bench:e2e run does.
      await run(process.execPath, [
        '--cpu-prof',
        `--cpu-prof-dir=${dir}`,
        '-e',
        'let x = 0; for (let i = 0; i < 3e7; i += 1) x += Math.sqrt(i); console.log(x > 0);',
      ]);
      const { stdout } = await run(process.execPath, ['tools/dist/bench-e2e/summarize-profiles.js', dir], {
        cwd: root,
      });
      expect(stdout).toMatch(/^== .*\.cpuprofile/m);
      expect(stdout).toMatch(/^busy \d+ ms of \d+ ms$/m);
      expect(stdout).toContain('top functions (self time):');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
