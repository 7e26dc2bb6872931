/**
 * bench:intake's report: the settings, a Markdown table of both sides at every concurrency, the load of
 * this process, and the targets met or missed, printed to stdout.
 */
import { availableParallelism, loadavg } from 'node:os';
import type { OrderConfig } from '../src/config.js';
import type { Measurement, ProcessLoad } from './intake-measurement.js';
import { DURATION_S, TARGET_CONCURRENCY, TARGET_P99_MS, TARGET_RATIO, WARMUP_S } from './intake-settings.js';

/** One concurrency's figures: the API's, how busy this process was meanwhile, and the raw baseline's. */
export interface Row {
  concurrency: number;
  api: Measurement;
  apiLoad: ProcessLoad;
  raw: Measurement;
}

const fixed = (value: number, digits: number): string =>
  Number.isFinite(value) ? value.toFixed(digits) : 'n/a';

/** The run's settings and the machine, before anything is measured. */
export function printSettings(config: OrderConfig): void {
  console.log('Order intake benchmark');
  console.log(`  cores (os.availableParallelism): ${availableParallelism()}`);
  // Other work on the machine skews every figure; the load average at start tells whether there was any.
  console.log(`  load average at start (1 min): ${fixed(loadavg()[0] ?? Number.NaN, 2)}`);
  console.log(`  node ${process.version}, duration ${DURATION_S} s per run, warm-up ${WARMUP_S} s`);
  console.log(
    `  service: ORDER_PG_POOL_MAX=${config.poolMax}, ORDER_INTAKE_MAX_BATCH=${config.intake.maxBatch}, ` +
      `ORDER_INTAKE_MAX_CONCURRENT_BATCHES=${config.intake.maxConcurrentBatches}, ` +
      `OUTBOX_BATCH_SIZE=${config.outbox.batchSize}, relay on`,
  );
  console.log(
    '  raw baseline: pg pool max = concurrency, one transaction per order (the order row and its history entry)',
  );
  console.log('');
}

/** Every concurrency's figures, both sides, as a Markdown table. */
export function printTable(rows: readonly Row[]): void {
  const header = [
    'concurrency',
    'API req/s',
    'API p50 ms',
    'API p99 ms',
    'raw tx/s',
    'raw p50 ms',
    'raw p99 ms',
    'ratio API/raw',
  ];
  const lines = rows.map((row) => [
    String(row.concurrency),
    fixed(row.api.perSecond, 0),
    fixed(row.api.p50, 2),
    fixed(row.api.p99, 2),
    fixed(row.raw.perSecond, 0),
    fixed(row.raw.p50, 2),
    fixed(row.raw.p99, 2),
    fixed(row.api.perSecond / row.raw.perSecond, 2),
  ]);
  const widths = header.map((title, i) =>
    Math.max(title.length, ...lines.map((line) => line[i]?.length ?? 0)),
  );
  const format = (cells: readonly string[]): string =>
    `| ${cells.map((cell, i) => cell.padStart(widths[i] ?? 0)).join(' | ')} |`;
  console.log(format(header));
  console.log(`|${widths.map((width) => '-'.repeat(width + 1) + ':').join('|')}|`);
  for (const line of lines) console.log(format(line));
}

/** How busy this process was during each API run, and the requests that failed. */
export function printNotes(rows: readonly Row[]): void {
  console.log('Load of this process during the API runs (service, relay and autocannon all run in it):');
  for (const row of rows) {
    console.log(
      `  ${row.concurrency} connections: event loop ${fixed(row.apiLoad.eventLoop * 100, 0)} % busy, ` +
        `${fixed(row.apiLoad.cores, 2)} cores of CPU`,
    );
    if (row.api.failures > 0) {
      console.log(`  ! ${row.api.failures} requests failed (non-2xx, errors or timeouts)`);
    }
  }
}

/** The targets, met (PASS) or missed (MISS), at TARGET_CONCURRENCY. */
export function printTargets(rows: readonly Row[]): void {
  const row = rows.find((candidate) => candidate.concurrency === TARGET_CONCURRENCY);
  if (!row) {
    console.log(`Targets are set at ${TARGET_CONCURRENCY} connections, which this run did not measure.`);
    return;
  }
  const ratio = row.api.perSecond / row.raw.perSecond;
  const verdict = (ok: boolean): string => (ok ? 'PASS' : 'MISS');
  console.log(
    `${verdict(ratio >= TARGET_RATIO)}  ratio API/raw at ${TARGET_CONCURRENCY} connections: ` +
      `${fixed(ratio, 2)} (target >= ${TARGET_RATIO.toFixed(1)})`,
  );
  console.log(
    `${verdict(row.api.p99 < TARGET_P99_MS)}  API p99 at ${TARGET_CONCURRENCY} connections: ` +
      `${fixed(row.api.p99, 2)} ms (target < ${TARGET_P99_MS} ms)`,
  );
  if (row.api.failures > 0)
    console.log(`MISS  API answered ${row.api.failures} requests with non-2xx or errors`);
}
