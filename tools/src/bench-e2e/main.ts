/**
 * `npm run bench:e2e`: the whole system as `npm start` runs it (the supervisor, each service its own
 * process, `fast` simulators), on databases, an exchange and ports of its own, under open-loop load at a
 * ladder of fixed rates. For each rate it reports intake latency, finals per second, order-to-final
 * latency, orders left unfinished, CPU per order for every process (services, simulators, supervisor,
 * RabbitMQ, PostgreSQL), log lines and commits per order; then the maximum sustainable rate, steps at half
 * and twice it, and two at three times it: one over pooled connections, one with a new connection per
 * request (is overload refused early, however callers connect?). Its header gives the machine and a
 * reference measured in the same run (machine-reference.ts).
 *
 * `--compare <git-ref>` builds that version in a worktree of its own and runs both systems side by side,
 * alternating them step by step (the other one paused meanwhile), and prints each figure of both with
 * their ratio; `--target <git-ref>` measures that version instead of this checkout (to measure one change
 * between two earlier commits); `--pairs N` measures every step N times for each, alternating which goes
 * first, and reports the medians. `--replicas` as npm start takes it. Settings: config.ts (BENCH_*), documented in the README.
 * It prints Markdown tables and writes everything to a JSON file.
 *
 * It exits 0 once it has measured: missing a target is a result, not an error.
 */
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeReplicas, parseReplicas } from '../supervisor/replicas.js';
import { prepareCheckout } from './version-checkout.js';
import { loadBenchConfig } from './config.js';
import type { ConnectionMode } from './load-protocol.js';
import { measureMachineReference } from './machine-reference.js';
import { startOtlpSink } from './otlp-sink.js';
import {
  comparisonTable,
  cpuPerOrderMs,
  cpuTable,
  isSustainable,
  medianStep,
  stepsTable,
  wakeUpTable,
  type MeasuredStep,
} from './report.js';
import { startSystemUnderTest, withAdminDatabase, type SystemUnderTest } from './system-under-test.js';

const say = (line = '') => process.stdout.write(`${line}\n`);
const config = loadBenchConfig();

let args: { replicas: string[]; compare?: string; target?: string; pairs: number };
try {
  const { values } = parseArgs({
    options: {
      replicas: { type: 'string', multiple: true },
      compare: { type: 'string' },
      target: { type: 'string' },
      pairs: { type: 'string' },
    },
  });
  const pairs = Number(values.pairs ?? 1);
  if (!Number.isInteger(pairs) || pairs < 1)
    throw new Error(`--pairs must be a whole number ≥ 1, not ${values.pairs}`);
  parseReplicas(values.replicas ?? []);
  args = { replicas: values.replicas ?? [], compare: values.compare, target: values.target, pairs };
} catch (error) {
  say((error as Error).message);
  process.exit(2);
}

const USERS = ['7c11e1ce2741', 'e6f24d7d1c7e', 'customer-123'];
const PRODUCTS = ['classic-box', 'family-box', 'veggie-box', 'product-A', 'product-B', 'product-C'];
const HOT_PRODUCT = 'classic-box';
const orderBody = (user: string, product: string) =>
  JSON.stringify({ user_id: user, items: [{ product_code: product, quantity: 1 }] });
/** Every user with every product, in turn (3 × 6 combinations). */
const MIXED_BODIES = PRODUCTS.flatMap((product) => USERS.map((user) => orderBody(user, product)));
const SINGLE_PRODUCT_BODIES = USERS.map((user) => orderBody(user, HOT_PRODUCT));

// ---------------------------------------------------------------------------------------------------------
// The machine

const versions = await withAdminDatabase(config.postgresUrl, async (client) => ({
  postgresql: (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version,
  autovacuum: (await client.query<{ autovacuum: string }>('SHOW autovacuum')).rows[0]?.autovacuum,
}));
const reference = await measureMachineReference(config.postgresUrl);
const machine = {
  cores: cpus().length,
  cpu: cpus()[0]?.model,
  node: process.version,
  ...versions,
  reference,
};
say(
  `bench:e2e on ${machine.cores} cores (${machine.cpu ?? '?'}), Node ${machine.node}, PostgreSQL ${machine.postgresql ?? '?'} ` +
    `(autovacuum ${machine.autovacuum ?? '?'}; the benchmark vacuums before each step), ` +
    `instances: ${describeReplicas(parseReplicas(args.replicas)) || 'one of each service'}`,
);
say(
  `machine reference: JavaScript work ${reference.jsWorkMs.toFixed(0)} ms, one wake-up ${reference.wakeUpCpuUs.toFixed(0)} µs of CPU, ` +
    `PostgreSQL ${reference.postgresCommitsPerS.toFixed(0)} commits/s on one connection`,
);

// ---------------------------------------------------------------------------------------------------------
// The systems

const traceSink = config.tracesSampling === undefined ? undefined : await startOtlpSink();
const tracingEnv = traceSink && {
  OTEL_EXPORTER_OTLP_ENDPOINT: traceSink.url,
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
  OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
  OTEL_TRACES_SAMPLER_ARG: String(config.tracesSampling),
};
const repoDir = fileURLToPath(new URL('../../..', import.meta.url));
const systems: SystemUnderTest[] = [];

async function tearDownAll(): Promise<void> {
  for (const system of systems.splice(0)) await system.tearDown();
}
process.once('SIGINT', () => {
  say('interrupted: removing what the benchmark created');
  void tearDownAll().finally(() => process.exit(130));
});

/** Runs `measure` for one system with every other one paused. */
async function alone<T>(system: SystemUnderTest, measure: () => Promise<T>): Promise<T> {
  const others = systems.filter((other) => other !== system);
  for (const other of others) other.pause();
  try {
    return await measure();
  } finally {
    for (const other of others) other.resume();
  }
}

/** Every measurement of a step, by system label: `pairs` of them, and their median. */
type Measurements = Map<string, { runs: MeasuredStep[]; median: MeasuredStep }>;

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

/**
 * Measures one step for each of `which` systems (all by default), `pairs` times, alternating which system
 * goes first, and keeps the median of each system's runs.
 */
async function measureStep(
  scenario: string,
  rateOf: (system: SystemUnderTest) => number,
  durationS: number,
  bodies: string[],
  connections: ConnectionMode = 'pooled',
  which: readonly SystemUnderTest[] = systems,
): Promise<Measurements> {
  const runs = new Map<string, MeasuredStep[]>(which.map((system) => [system.label, []]));
  for (let pair = 0; pair < args.pairs; pair++) {
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

/** Every measured step, by system label, in the order measured. */
const results = new Map<string, MeasuredStep[]>();
const allRuns = new Map<string, MeasuredStep[]>();
function keep(measurements: Measurements): Measurements {
  for (const [label, { runs, median }] of measurements) {
    results.set(label, [...(results.get(label) ?? []), median]);
    allRuns.set(label, [...(allRuns.get(label) ?? []), ...runs]);
  }
  return measurements;
}

/**
 * A ladder of rates, each measured for every system still climbing: a system stops after
 * BENCH_STOP_AFTER_UNSUSTAINABLE unsustainable rates in a row. Returns each system's maximum sustainable
 * rate (undefined when none was).
 */
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

try {
  if (args.compare !== undefined) {
    const baseline = await prepareCheckout(repoDir, args.compare, say);
    systems.push(
      await startSystemUnderTest({
        label: baseline.label,
        checkoutDir: baseline.dir,
        config,
        replicaArgs: args.replicas,
        env: tracingEnv,
        say,
      }),
    );
  }
  // Paused while the next one starts: a system's start-up is busy, and it would slow the other's.
  for (const system of systems) system.pause();
  const target = args.target === undefined ? undefined : await prepareCheckout(repoDir, args.target, say);
  if (target) say(`measuring ${args.target ?? ''} (${target.label}) as "this"`);
  systems.push(
    await startSystemUnderTest({
      label: 'this',
      checkoutDir: target?.dir ?? repoDir,
      config,
      replicaArgs: args.replicas,
      env: tracingEnv,
      say,
    }),
  );
  for (const system of systems) system.resume();

  const idle = new Map<string, Record<string, number>>();
  for (const system of systems) {
    if (config.warmup.seconds > 0) {
      say(
        `[${system.label}] warming up: ${config.warmup.rate} orders/s for ${config.warmup.seconds} s (not measured)`,
      );
      await alone(system, () => system.warmUp(config.warmup.rate, config.warmup.seconds, MIXED_BODIES));
    }
  }
  for (const system of systems) {
    const perProcess = await alone(system, () => system.measureIdle(config.idleS));
    idle.set(system.label, perProcess);
    const total = Object.values(perProcess).reduce((sum, ms) => sum + ms, 0);
    say(
      `[${system.label}] idle: ${total.toFixed(1)} ms of CPU per second (${JSON.stringify(perProcess, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(1)) : v))})`,
    );
  }

  const light =
    config.lightRate > 0
      ? keep(
          await measureStep('light', () => config.lightRate, Math.max(config.durationS / 2, 5), MIXED_BODIES),
        )
      : undefined;
  say('mixed users and products');
  const msr = await ladder('mixed', config.rates, MIXED_BODIES);
  for (const [label, rate] of msr)
    say(
      `[${label}] maximum sustainable rate (mixed): ${rate === undefined ? 'none of the rates' : `${rate} orders/s`}`,
    );
  const withRate = systems.filter((system) => msr.get(system.label) !== undefined);
  const rateOf = (factor: number) => (system: SystemUnderTest) =>
    Math.round(factor * (msr.get(system.label) ?? 0));

  let half: Measurements | undefined;
  if (config.half && withRate.length > 0) {
    say('half the maximum sustainable rate');
    half = keep(await measureStep('half', rateOf(0.5), config.durationS, MIXED_BODIES, 'pooled', withRate));
  }
  let twice: Measurements | undefined;
  if (config.twice && withRate.length > 0) {
    say('twice the maximum sustainable rate');
    twice = keep(await measureStep('twice', rateOf(2), config.durationS, MIXED_BODIES, 'pooled', withRate));
  }
  if (config.singleProductRates.length > 0) {
    say(`single product (${HOT_PRODUCT})`);
    await ladder('single', config.singleProductRates, SINGLE_PRODUCT_BODIES);
  }
  const base = (system: SystemUnderTest) => msr.get(system.label) ?? Math.min(...config.rates);
  let overload: Measurements | undefined;
  if (config.overloadFactor > 0) {
    say(
      `overload: ${config.overloadFactor} × the maximum sustainable rate for ${config.overloadS} s, pooled connections`,
    );
    overload = keep(
      await measureStep(
        'overload',
        (s) => Math.round(config.overloadFactor * base(s)),
        config.overloadS,
        MIXED_BODIES,
      ),
    );
  }
  let flood: Measurements | undefined;
  if (config.floodFactor > 0) {
    say(
      `flood: ${config.floodFactor} × the maximum sustainable rate for ${config.floodS} s, a new connection per request`,
    );
    flood = keep(
      await measureStep(
        'flood',
        (s) => Math.round(config.floodFactor * base(s)),
        config.floodS,
        MIXED_BODIES,
        'per-request',
      ),
    );
  }

  // -------------------------------------------------------------------------------------------------------
  // The report

  say();
  say(`## bench:e2e, ${machine.cores} cores, Node ${machine.node}, PostgreSQL ${machine.postgresql ?? '?'}`);
  say();
  say(
    `Machine reference: JavaScript work ${reference.jsWorkMs.toFixed(0)} ms, one wake-up ${reference.wakeUpCpuUs.toFixed(0)} µs, ` +
      `PostgreSQL ${reference.postgresCommitsPerS.toFixed(0)} commits/s.` +
      (args.pairs > 1 ? ` Each figure is the median of ${args.pairs} runs.` : ''),
  );
  for (const system of systems) {
    const steps = results.get(system.label) ?? [];
    say();
    say(`### ${system.label === 'this' ? 'This version' : `Baseline ${system.label}`}`);
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
  const baselineLabel = systems.find((system) => system.label !== 'this')?.label;
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
  const halfThis = half?.get('this')?.median;
  const floodThis = flood?.get('this')?.median;
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
  const overloadThis = overload?.get('this')?.median;
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
  const twiceThis = twice?.get('this')?.median;
  if (twiceThis && thisMsr) {
    say(
      `  finals at twice the sustainable rate: ${((100 * twiceThis.steadyFinalsPerS) / thisMsr).toFixed(0)} % of it`,
    );
  }
  say(`  idle CPU ≤ 34 ms per second: ${idleThis.toFixed(1)} → ${verdict(idleThis <= 34)}`);
  say(`  SPEC §4.11: 1,000 orders/s → ${verdict(thisMsr !== undefined && thisMsr >= 1000)}`);
  const lightThis = light?.get('this')?.median;
  if (lightThis)
    say(`  at ${config.lightRate}/s: order-to-final p50 ${lightThis.orderToFinalMs.p50.toFixed(0)} ms`);
  const traces = traceSink?.received();
  say(
    traces
      ? `  tracing on, sampling ${config.tracesSampling}: ${traces.requests} OTLP exports, ${(traces.bytes / 1e6).toFixed(1)} MB`
      : '  tracing off',
  );
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
        systems: systems.map((system) => system.label),
        idleCpuMsPerS: Object.fromEntries(idle),
        maximumSustainableRate: Object.fromEntries(msr),
        traces,
        steps: Object.fromEntries(results),
        runs: Object.fromEntries(allRuns),
      },
      null,
      2,
    )}\n`,
  );
  say(`\nresults written to ${config.output}`);
} finally {
  await tearDownAll();
}
process.exit(0);
