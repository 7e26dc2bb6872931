import type { Percentiles, StepResult } from './load-protocol.js';

/** One measured step with what each process spent on it. */
export interface MeasuredStep extends StepResult {
  scenario: string;
  /** CPU used during the step (load, drain) by each process of the system, in ms. */
  cpuMs: Record<string, number>;
  /** Times each process's threads were woken during the step (voluntary context switches). */
  wakeUps?: Record<string, number>;
  /** Lines the system's processes wrote during the step. */
  logLines: number;
  /** Transactions committed during the step, by database. */
  commits: Record<string, number>;
}

/** What makes a rate sustainable (SPEC §4.11, issue 9): nearly every order final, and final quickly. */
export const SUSTAINABLE = { finalsShare: 0.95, p99OrderToFinalMs: 1_000 } as const;

/** Whether the system kept up with a step's offered rate. */
export function isSustainable(step: StepResult): boolean {
  return (
    step.steadyFinalsPerS >= SUSTAINABLE.finalsShare * step.rate &&
    step.orderToFinalMs.p99 < SUSTAINABLE.p99OrderToFinalMs &&
    step.notFinal === 0
  );
}

/** The highest offered rate that was sustainable, or undefined when none was. */
export function maximumSustainableRate(steps: readonly StepResult[]): number | undefined {
  const rates = steps.filter(isSustainable).map((step) => step.rate);
  return rates.length === 0 ? undefined : Math.max(...rates);
}

/**
 * CPU per order summed over every process of the system (the load generator excluded), in ms: the step's
 * CPU over the orders that became final meanwhile (a backlog of earlier steps included, which is what that
 * CPU was spent on).
 */
export function cpuPerOrderMs(step: MeasuredStep): number {
  const total = Object.entries(step.cpuMs)
    .filter(([name]) => name !== 'load-generator')
    .reduce((sum, [, ms]) => sum + ms, 0);
  return step.finalsDuringStep === 0 ? Number.NaN : total / step.finalsDuringStep;
}

const perFinal = (step: MeasuredStep, total: number): number =>
  step.finalsDuringStep === 0 ? Number.NaN : total / step.finalsDuringStep;

const fixed = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : '–');

/** A Markdown table: the README shows it as printed. */
export function markdownTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => cell.padStart(widths[i] ?? 0)).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => `${'-'.repeat(w + 1)}:`).join('|')}|`, ...rows.map(line)].join(
    '\n',
  );
}

/** The ladder: one row per step. */
export function stepsTable(steps: readonly MeasuredStep[]): string {
  return markdownTable(
    [
      'scenario',
      'offered/s',
      'accepted/s',
      'refused',
      'intake p50/p90/p99/p99.9 ms',
      'finals/s',
      'to final p50/p90/p99 ms',
      'not final',
      'CPU ms/order',
      'log lines/order',
      'commits/order',
      'sustainable',
    ],
    steps.map((step) => {
      const refused = step.sent - step.accepted;
      const i = step.intakeMs;
      const f = step.orderToFinalMs;
      return [
        step.scenario,
        String(step.rate),
        fixed(step.accepted / step.durationS),
        String(refused),
        `${fixed(i.p50)} / ${fixed(i.p90)} / ${fixed(i.p99)} / ${fixed(i.p999)}`,
        fixed(step.steadyFinalsPerS),
        `${fixed(f.p50, 0)} / ${fixed(f.p90, 0)} / ${fixed(f.p99, 0)}`,
        String(step.notFinal),
        fixed(cpuPerOrderMs(step), 2),
        fixed(step.finalsDuringStep === 0 ? Number.NaN : step.logLines / step.finalsDuringStep, 1),
        fixed(
          perFinal(
            step,
            Object.values(step.commits).reduce((sum, n) => sum + n, 0),
          ),
          1,
        ),
        isSustainable(step) ? 'yes' : 'no',
      ];
    }),
  );
}

/** Wake-ups per final order for each process (see `treeWakeUps`), one row per step. */
export function wakeUpTable(steps: readonly MeasuredStep[]): string {
  const names = [...new Set(steps.flatMap((step) => Object.keys(step.wakeUps ?? {})))];
  return markdownTable(
    ['scenario', 'offered/s', ...names, 'total'],
    steps.map((step) => [
      step.scenario,
      String(step.rate),
      // A process tree whose processes exited during the step (PostgreSQL backends) took their counts
      // with them: a count that went down is shown as unknown.
      ...names.map((name) => {
        const count = step.wakeUps?.[name] ?? Number.NaN;
        return fixed(count < 0 ? Number.NaN : count / step.finalsDuringStep, 1);
      }),
      fixed(
        Object.values(step.wakeUps ?? {}).reduce((sum, n) => sum + Math.max(0, n), 0) / step.finalsDuringStep,
        1,
      ),
    ]),
  );
}

/** Where the CPU went: ms per final order (as in `cpuPerOrderMs`) for each process, one row per step. */
export function cpuTable(steps: readonly MeasuredStep[]): string {
  const names = [...new Set(steps.flatMap((step) => Object.keys(step.cpuMs)))];
  return markdownTable(
    ['scenario', 'offered/s', ...names],
    steps.map((step) => [
      step.scenario,
      String(step.rate),
      ...names.map((name) => fixed((step.cpuMs[name] ?? Number.NaN) / step.finalsDuringStep, 2)),
    ]),
  );
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

/**
 * The median of several runs of one step: the run whose CPU per order is the median (its CPU by process,
 * statuses and outcomes), with finals per second, latency percentiles and orders not final replaced by
 * the medians of each over all runs.
 * @throws Error when `runs` is empty
 */
export function medianStep(runs: readonly MeasuredStep[]): MeasuredStep {
  if (runs.length === 0) throw new Error('no runs to take the median of');
  if (runs.length === 1) return runs[0] as MeasuredStep;
  const byCpu = [...runs].sort((a, b) => cpuPerOrderMs(a) - cpuPerOrderMs(b));
  const representative = byCpu[Math.floor((byCpu.length - 1) / 2)] as MeasuredStep;
  const percentiles = (of: (step: MeasuredStep) => Percentiles): Percentiles => ({
    p50: median(runs.map((step) => of(step).p50)),
    p90: median(runs.map((step) => of(step).p90)),
    p99: median(runs.map((step) => of(step).p99)),
    p999: median(runs.map((step) => of(step).p999)),
    max: median(runs.map((step) => of(step).max)),
  });
  return {
    ...representative,
    steadyFinalsPerS: median(runs.map((step) => step.steadyFinalsPerS)),
    intakeMs: percentiles((step) => step.intakeMs),
    orderToFinalMs: percentiles((step) => step.orderToFinalMs),
    notFinal: median(runs.map((step) => step.notFinal)),
  };
}

/**
 * Two versions side by side, one row per step both measured (same scenario and rate): finals per second,
 * order-to-final p50 and p99, intake p99 and CPU per order of each, with the ratio this / baseline.
 */
export function comparisonTable(baseline: readonly MeasuredStep[], current: readonly MeasuredStep[]): string {
  const rows: string[][] = [];
  for (const before of baseline) {
    const after = current.find((step) => step.scenario === before.scenario && step.rate === before.rate);
    if (!after) continue;
    const cell = (of: (step: MeasuredStep) => number, digits: number) => {
      const a = of(before);
      const b = of(after);
      return `${fixed(a, digits)} → ${fixed(b, digits)} (${fixed(b / a, 2)}×)`;
    };
    rows.push([
      before.scenario,
      String(before.rate),
      cell((step) => step.steadyFinalsPerS, 1),
      cell((step) => step.orderToFinalMs.p50, 0),
      cell((step) => step.orderToFinalMs.p99, 0),
      cell((step) => step.intakeMs.p99, 1),
      cell(cpuPerOrderMs, 2),
    ]);
  }
  return markdownTable(
    [
      'scenario',
      'offered/s',
      'finals/s',
      'to final p50 ms',
      'to final p99 ms',
      'intake p99 ms',
      'CPU ms/order',
    ],
    rows,
  );
}
