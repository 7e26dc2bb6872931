/**
 * What bench:intake measures and how it sums it up: throughput and latency percentiles of one side at one
 * concurrency, and how busy this process was meanwhile.
 */

/** One side's figures at one concurrency; latencies in milliseconds. */
export interface Measurement {
  perSecond: number;
  p50: number;
  p99: number;
  /** Failed requests (non-2xx, connection errors, timeouts) or failed transactions. */
  failures: number;
}

/** How busy this process was during a run: tells whether Node or something else was the limit. */
export interface ProcessLoad {
  /** Share of the time the main event loop was busy, 0..1 (it runs the service and autocannon alike). */
  eventLoop: number;
  /** CPU time of the whole process over wall time, in cores. */
  cores: number;
}

/** Runs `work` and reports how busy this process was meanwhile. */
export async function withProcessLoad<T>(work: () => Promise<T>): Promise<{ result: T; load: ProcessLoad }> {
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const result = await work();
  const wallUs = elapsedMsSince(started) * 1000;
  const used = process.cpuUsage(cpu);
  return {
    result,
    load: {
      eventLoop: performance.eventLoopUtilization(elu).utilization,
      cores: (used.user + used.system) / wallUs,
    },
  };
}

/** The value below which a fraction `q` of the samples lie (nearest rank), on a sorted array. */
function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

/** A run's figures: its latencies (ms, any order) over the `elapsedS` it took, and its failures. */
export function summarise(latenciesMs: number[], elapsedS: number, failures: number): Measurement {
  const sorted = Float64Array.from(latenciesMs).sort();
  return {
    perSecond: latenciesMs.length / elapsedS,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    failures,
  };
}

/** Milliseconds since `start`, a `process.hrtime.bigint()` reading. */
export const elapsedMsSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;
