import type { StepResult } from './load-protocol.js';

/** One measured step with what each process spent on it. */
export interface MeasuredStep extends StepResult {
  scenario: string;
  /** CPU used during the step (load, drain) by each process of the system, in ms. */
  cpuMs: Record<string, number>;
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
