import { describeCounts, type CheckResult } from './checks.js';
import type { InjectedFault } from './faults.js';
import { countAnswers, type Answer } from './open-loop-load.js';

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** When a fault stopped mattering: the broken part back, and every recovery measured after it. */
export function recoveredAt(fault: InjectedFault): number {
  return fault.endedAt + Math.max(0, ...fault.recoveries.map((recovery) => recovery.ms ?? 0));
}

function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

/**
 * The faults injected, as a Markdown table: when (s after the load started), what, how long the part was
 * away, what `POST /orders` answered from the fault until the system recovered, and each recovery time.
 */
export function faultsTable(
  faults: readonly InjectedFault[],
  answers: readonly Answer[],
  loadStartedAt: number,
): string {
  return table(
    ['at', 'fault', 'away', 'POST /orders answers until recovered', 'recovery'],
    faults.map((fault) => [
      seconds(fault.startedAt - loadStartedAt),
      fault.description,
      seconds(fault.endedAt - fault.startedAt),
      describeCounts(countAnswers(answers, fault.startedAt, recoveredAt(fault))) || 'none sent',
      fault.recoveries
        .map(
          (recovery) =>
            `${recovery.what} ${recovery.ms === null ? 'NEVER' : `after ${seconds(recovery.ms)}`}`,
        )
        .join('; '),
    ]),
  );
}

/** The checks as a Markdown table, each violation (the first few) on a line below it. */
export function checksTable(checks: readonly CheckResult[]): string {
  const lines = [
    table(
      ['check', 'result', 'detail'],
      checks.map((check) => [check.name, check.ok ? 'ok' : 'VIOLATED', check.summary]),
    ),
  ];
  for (const check of checks.filter((c) => !c.ok)) {
    lines.push('', `${check.name}:`, ...check.violations.map((violation) => `  - ${violation}`));
  }
  return lines.join('\n');
}
