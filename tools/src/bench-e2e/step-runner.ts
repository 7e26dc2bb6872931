/**
 * How bench:e2e measures its steps across the systems under test: each system alone (the others paused),
 * every step `--pairs` times alternating which system goes first, the median kept; and the ladder of rates
 * that finds each system's maximum sustainable rate. It keeps every step it measured for the report.
 */
import type { BenchConfig } from './config.js';
import type { ConnectionMode } from './load-protocol.js';
import { cpuPerOrderMs, isSustainable, medianStep, type MeasuredStep } from './report.js';
import type { SystemUnderTest } from './system-under-test.js';

/** Every measurement of a step, by system label: `pairs` of them, and their median. */
export type Measurements = Map<string, { runs: MeasuredStep[]; median: MeasuredStep }>;

/** Measures steps on the systems under test and keeps what it measured. */
export interface StepRunner {
  /** Every measured step (the median of its runs), by system label, in the order measured. */
  readonly results: ReadonlyMap<string, MeasuredStep[]>;
  /** Every run of every measured step, by system label, in the order measured. */
  readonly allRuns: ReadonlyMap<string, MeasuredStep[]>;
  /** Runs `measure` for one system with every other one paused. */
  alone<T>(system: SystemUnderTest, measure: () => Promise<T>): Promise<T>;
  /**
   * Measures one step for each of `which` systems (all by default), `pairs` times, alternating which system
   * goes first, and keeps the median of each system's runs.
   */
  measureStep(
    scenario: string,
    rateOf: (system: SystemUnderTest) => number,
    durationS: number,
    bodies: string[],
    connections?: ConnectionMode,
    which?: readonly SystemUnderTest[],
  ): Promise<Measurements>;
  /** Adds a step's measurements to `results` and `allRuns`; returns them. */
  keep(measurements: Measurements): Measurements;
  /**
   * A ladder of rates, each measured for every system still climbing: a system stops after
   * BENCH_STOP_AFTER_UNSUSTAINABLE unsustainable rates in a row. Returns each system's maximum sustainable
   * rate (undefined when none was).
   */
  ladder(scenario: string, rates: number[], bodies: string[]): Promise<Map<string, number | undefined>>;
}

/**
 * A step runner over `systems`, read at each call: the systems started later count too, and those torn
 * down (removed from it) no longer do.
 */
export function createStepRunner(options: {
  systems: readonly SystemUnderTest[];
  pairs: number;
  config: BenchConfig;
  say: (line?: string) => void;
}): StepRunner {
  const { systems, pairs, config, say } = options;
  const results = new Map<string, MeasuredStep[]>();
  const allRuns = new Map<string, MeasuredStep[]>();

  async function alone<T>(system: SystemUnderTest, measure: () => Promise<T>): Promise<T> {
    const others = systems.filter((other) => other !== system);
    for (const other of others) other.pause();
    try {
      return await measure();
    } finally {
      for (const other of others) other.resume();
    }
  }

  async function measureStep(
    scenario: string,
    rateOf: (system: SystemUnderTest) => number,
    durationS: number,
    bodies: string[],
    connections: ConnectionMode = 'pooled',
    which: readonly SystemUnderTest[] = systems,
  ): Promise<Measurements> {
    const runs = new Map<string, MeasuredStep[]>(which.map((system) => [system.label, []]));
    for (let pair = 0; pair < pairs; pair++) {
      const order = pair % 2 === 0 ? which : [...which].reverse();
      for (const system of order) {
        const step = await alone(system, () =>
          system.measure({ scenario, rate: rateOf(system), durationS, bodies, connections }),
        );
        say(describe(system.label, step));
        runs.get(system.label)?.push(step);
      }
    }
    return new Map(
      [...runs].map(([label, measured]) => [label, { runs: measured, median: medianStep(measured) }]),
    );
  }

  function keep(measurements: Measurements): Measurements {
    for (const [label, { runs, median }] of measurements) {
      results.set(label, [...(results.get(label) ?? []), median]);
      allRuns.set(label, [...(allRuns.get(label) ?? []), ...runs]);
    }
    return measurements;
  }

  async function ladder(
    scenario: string,
    rates: number[],
    bodies: string[],
  ): Promise<Map<string, number | undefined>> {
    const unsustainableInARow = new Map(systems.map((system) => [system.label, 0]));
    const best = new Map<string, number | undefined>(systems.map((system) => [system.label, undefined]));
    for (const rate of rates) {
      const climbing = systems.filter(
        (system) => (unsustainableInARow.get(system.label) ?? 0) < config.stopAfterUnsustainable,
      );
      if (climbing.length === 0) {
        say(
          `  ${scenario} ${rate}/s: skipped (every system failed ${config.stopAfterUnsustainable} rates in a row)`,
        );
        continue;
      }
      const measured = keep(
        await measureStep(scenario, () => rate, config.durationS, bodies, 'pooled', climbing),
      );
      for (const [label, { median }] of measured) {
        if (isSustainable(median)) {
          unsustainableInARow.set(label, 0);
          best.set(label, Math.max(best.get(label) ?? 0, rate));
        } else {
          unsustainableInARow.set(label, (unsustainableInARow.get(label) ?? 0) + 1);
        }
      }
    }
    return best;
  }

  return { results, allRuns, alone, measureStep, keep, ladder };
}

/** One line per measured run, printed as it is measured. */
function describe(label: string, step: MeasuredStep): string {
  const f = step.orderToFinalMs;
  const statuses = Object.entries(step.statuses)
    .map(([status, n]) => `${status}×${n}`)
    .join(' ');
  return (
    `  [${label}] ${step.scenario} ${step.rate}/s: accepted ${step.accepted}/${step.sent} (${statuses}), ` +
    `intake p99 ${step.intakeMs.p99.toFixed(1)} max ${step.intakeMs.max.toFixed(0)} ms, ` +
    `finals ${step.steadyFinalsPerS.toFixed(1)}/s, to final p50 ${f.p50.toFixed(0)} p99 ${f.p99.toFixed(0)} ms, ` +
    `not final ${step.notFinal}, CPU ${cpuPerOrderMs(step).toFixed(2)} ms/order ` +
    `(${isSustainable(step) ? 'sustainable' : 'not sustainable'})`
  );
}
