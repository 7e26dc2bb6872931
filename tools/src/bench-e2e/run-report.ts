/**
 * The end of a bench:e2e run: its Markdown report (each system's tables, the comparison of two, the
 * targets of issue 21 met or missed) and its results file (JSON: the settings, the machine, every step and
 * every run).
 */
import { writeFile } from 'node:fs/promises';
import type { BenchArgs } from './bench-args.js';
import type { BenchConfig } from './config.js';
import type { MachineDescription } from './machine-description.js';
import { comparisonTable, cpuPerOrderMs, cpuTable, stepsTable, wakeUpTable } from './report.js';
import type { Measurements, StepRunner } from './step-runner.js';

/** Everything a run measured, by system label where it is per system. */
export interface BenchOutcome {
  machine: MachineDescription;
  config: BenchConfig;
  args: BenchArgs;
  /** The systems' labels, in the order they were started (`this` last). */
  labels: readonly string[];
  steps: Pick<StepRunner, 'results' | 'allRuns'>;
  /** CPU of each process with no load, in ms per second. */
  idle: ReadonlyMap<string, Record<string, number>>;
  /** The maximum sustainable rate (mixed), undefined when none of the rates was. */
  msr: ReadonlyMap<string, number | undefined>;
  light?: Measurements;
  half?: Measurements;
  twice?: Measurements;
  overload?: Measurements;
  flood?: Measurements;
  /** What the trace sink received, when tracing was on. */
  traces?: { requests: number; bytes: number };
}

/** Prints the report: the tables of each system, the comparison when there is a baseline, the targets. */
export function printReport(outcome: BenchOutcome, say: (line?: string) => void): void {
  const { machine, config, args, labels, msr, idle } = outcome;
  const { results } = outcome.steps;
  const reference = machine.reference;
  say();
  say(`## bench:e2e, ${machine.cores} cores, Node ${machine.node}, PostgreSQL ${machine.postgresql ?? '?'}`);
  say();
  say(
    `Machine reference: JavaScript work ${reference.jsWorkMs.toFixed(0)} ms, one wake-up ${reference.wakeUpCpuUs.toFixed(0)} µs, ` +
      `PostgreSQL ${reference.postgresCommitsPerS.toFixed(0)} commits/s.` +
      (args.pairs > 1 ? ` Each figure is the median of ${args.pairs} runs.` : ''),
  );
  for (const label of labels) {
    const steps = results.get(label) ?? [];
    say();
    say(`### ${label === 'this' ? 'This version' : `Baseline ${label}`}`);
    say();
    say(stepsTable(steps));
    say();
    say('CPU ms per final order, by process:');
    say();
    say(cpuTable(steps));
    say();
    say('Wake-ups per final order, by process (voluntary context switches of all its threads):');
    say();
    say(wakeUpTable(steps));
  }
  const current = results.get('this') ?? [];
  const baselineLabel = labels.find((label) => label !== 'this');
  if (baselineLabel) {
    say();
    say(`### This version against ${baselineLabel} (ratio = this / baseline)`);
    say();
    say(comparisonTable(results.get(baselineLabel) ?? [], current));
  }

  say();
  const verdict = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? 'met' : 'MISSED');
  const thisMsr = msr.get('this');
  const find = (label: string, scenario: string, rate?: number) =>
    (results.get(label) ?? []).find(
      (step) => step.scenario === scenario && (rate === undefined || step.rate === rate),
    );
  const ratio = (scenario: string, rate: number) => {
    if (!baselineLabel) return undefined;
    const a = find(baselineLabel, scenario, rate);
    const b = find('this', scenario, rate);
    return a && b ? cpuPerOrderMs(b) / cpuPerOrderMs(a) : undefined;
  };
  const idleThis = Object.values(idle.get('this') ?? {}).reduce((sum, ms) => sum + ms, 0);
  const halfThis = outcome.half?.get('this')?.median;
  const floodThis = outcome.flood?.get('this')?.median;
  const lightRatio = ratio('light', config.lightRate);
  const ratio50 = ratio('mixed', 50);
  const baselineMsr = baselineLabel ? msr.get(baselineLabel) : undefined;
  say('Targets (issue 21; SPEC §4.9, §4.11):');
  say(
    `  CPU per order at ${config.lightRate}/s ≤ ¼ of the baseline's: ${lightRatio?.toFixed(2) ?? '–'} → ${verdict(lightRatio === undefined ? undefined : lightRatio <= 0.25)}`,
  );
  say(
    `  CPU per order at 50/s ≤ ¼ of the baseline's: ${ratio50?.toFixed(2) ?? '–'} → ${verdict(ratio50 === undefined ? undefined : ratio50 <= 0.25)}`,
  );
  say(
    `  maximum sustainable rate ≥ 750/s and ≥ 2.5 × the baseline's: ${thisMsr ?? 'none'}` +
      (baselineMsr === undefined
        ? ''
        : ` (${((thisMsr ?? 0) / baselineMsr).toFixed(2)} × the baseline's ${baselineMsr})`) +
      ` → ${verdict(thisMsr !== undefined && thisMsr >= 750 && (baselineLabel === undefined || (baselineMsr !== undefined && thisMsr >= 2.5 * baselineMsr)))}`,
  );
  say(
    `  at half of it (${halfThis?.rate ?? '–'}/s): order-to-final p99 < 250 ms (${halfThis?.orderToFinalMs.p99.toFixed(0) ?? '–'}), ` +
      `intake p99 < 25 ms (${halfThis?.intakeMs.p99.toFixed(1) ?? '–'}) → ` +
      verdict(halfThis && halfThis.orderToFinalMs.p99 < 250 && halfThis.intakeMs.p99 < 25),
  );
  if (floodThis) {
    const answeredOnly = Object.keys(floodThis.statuses).every(
      (status) => status === '201' || status === '503',
    );
    const finalsShare = thisMsr ? floodThis.steadyFinalsPerS / thisMsr : Number.NaN;
    say(
      `  flood at ${floodThis.rate}/s (a connection per request): longest answer ${floodThis.intakeMs.max.toFixed(0)} ms (< 1000), ` +
        `only 201 and 503 (${answeredOnly ? 'yes' : JSON.stringify(floodThis.statuses)}), finals ${(100 * finalsShare).toFixed(0)} % of the sustainable rate (≥ 90 %), ` +
        `${floodThis.outcomes['CANCELLED timeout'] ?? 0} ended timeout, ${floodThis.notFinal} not final → ` +
        verdict(
          floodThis.intakeMs.max < 1000 &&
            answeredOnly &&
            finalsShare >= 0.9 &&
            (floodThis.outcomes['CANCELLED timeout'] ?? 0) === 0 &&
            floodThis.notFinal === 0,
        ),
    );
  }
  const overloadThis = outcome.overload?.get('this')?.median;
  if (overloadThis) {
    say(
      `  overload at ${overloadThis.rate}/s (pooled): longest answer ${overloadThis.intakeMs.max.toFixed(0)} ms (< 1000), ` +
        `${overloadThis.retryAfter} refused with Retry-After, ${overloadThis.outcomes['CANCELLED timeout'] ?? 0} ended timeout, ` +
        `${overloadThis.notFinal} not final → ` +
        verdict(
          overloadThis.intakeMs.max < 1000 &&
            (overloadThis.outcomes['CANCELLED timeout'] ?? 0) === 0 &&
            overloadThis.notFinal === 0,
        ),
    );
  }
  const twiceThis = outcome.twice?.get('this')?.median;
  if (twiceThis && thisMsr) {
    say(
      `  finals at twice the sustainable rate: ${((100 * twiceThis.steadyFinalsPerS) / thisMsr).toFixed(0)} % of it`,
    );
  }
  say(`  idle CPU ≤ 34 ms per second: ${idleThis.toFixed(1)} → ${verdict(idleThis <= 34)}`);
  say(`  SPEC §4.11: 1,000 orders/s → ${verdict(thisMsr !== undefined && thisMsr >= 1000)}`);
  const lightThis = outcome.light?.get('this')?.median;
  if (lightThis)
    say(`  at ${config.lightRate}/s: order-to-final p50 ${lightThis.orderToFinalMs.p50.toFixed(0)} ms`);
  const traces = outcome.traces;
  say(
    traces
      ? `  tracing on, sampling ${config.tracesSampling}: ${traces.requests} OTLP exports, ${(traces.bytes / 1e6).toFixed(1)} MB`
      : '  tracing off',
  );
}

/** Writes everything the run measured to BENCH_OUTPUT, as JSON. */
export async function writeResults(outcome: BenchOutcome): Promise<void> {
  const { machine, config, args } = outcome;
  await writeFile(
    config.output,
    `${JSON.stringify(
      {
        measuredAt: new Date().toISOString(),
        machine,
        settings: {
          ...config,
          env: undefined,
          replicas: args.replicas,
          compare: args.compare,
          pairs: args.pairs,
        },
        systems: outcome.labels,
        idleCpuMsPerS: Object.fromEntries(outcome.idle),
        maximumSustainableRate: Object.fromEntries(outcome.msr),
        traces: outcome.traces,
        steps: Object.fromEntries(outcome.steps.results),
        runs: Object.fromEntries(outcome.steps.allRuns),
      },
      null,
      2,
    )}\n`,
  );
}
