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
import { fileURLToPath } from 'node:url';
import { describeReplicas, parseReplicas } from '../supervisor/replicas.js';
import { parseBenchArgs } from './bench-args.js';
import { prepareCheckout } from './version-checkout.js';
import { loadBenchConfig } from './config.js';
import { describeMachine } from './machine-description.js';
import { startOtlpSink } from './otlp-sink.js';
import { printReport, writeResults } from './run-report.js';
import { createStepRunner, type Measurements } from './step-runner.js';
import { startSystemUnderTest, type SystemUnderTest } from './system-under-test.js';

const say = (line = '') => process.stdout.write(`${line}\n`);
const config = loadBenchConfig();
const args = parseBenchArgs(say);

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

const machine = await describeMachine(config.postgresUrl);
const reference = machine.reference;
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

// Measures each step on every system (step-runner.ts) and keeps every measured step for the report.
const runner = createStepRunner({ systems, pairs: args.pairs, config, say });

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
      await runner.alone(system, () =>
        system.warmUp(config.warmup.rate, config.warmup.seconds, MIXED_BODIES),
      );
    }
  }
  for (const system of systems) {
    const perProcess = await runner.alone(system, () => system.measureIdle(config.idleS));
    idle.set(system.label, perProcess);
    const total = Object.values(perProcess).reduce((sum, ms) => sum + ms, 0);
    say(
      `[${system.label}] idle: ${total.toFixed(1)} ms of CPU per second (${JSON.stringify(perProcess, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(1)) : v))})`,
    );
  }

  const light =
    config.lightRate > 0
      ? runner.keep(
          await runner.measureStep(
            'light',
            () => config.lightRate,
            Math.max(config.durationS / 2, 5),
            MIXED_BODIES,
          ),
        )
      : undefined;
  say('mixed users and products');
  const msr = await runner.ladder('mixed', config.rates, MIXED_BODIES);
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
    half = runner.keep(
      await runner.measureStep('half', rateOf(0.5), config.durationS, MIXED_BODIES, 'pooled', withRate),
    );
  }
  let twice: Measurements | undefined;
  if (config.twice && withRate.length > 0) {
    say('twice the maximum sustainable rate');
    twice = runner.keep(
      await runner.measureStep('twice', rateOf(2), config.durationS, MIXED_BODIES, 'pooled', withRate),
    );
  }
  if (config.singleProductRates.length > 0) {
    say(`single product (${HOT_PRODUCT})`);
    await runner.ladder('single', config.singleProductRates, SINGLE_PRODUCT_BODIES);
  }
  const base = (system: SystemUnderTest) => msr.get(system.label) ?? Math.min(...config.rates);
  let overload: Measurements | undefined;
  if (config.overloadFactor > 0) {
    say(
      `overload: ${config.overloadFactor} × the maximum sustainable rate for ${config.overloadS} s, pooled connections`,
    );
    overload = runner.keep(
      await runner.measureStep(
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
    flood = runner.keep(
      await runner.measureStep(
        'flood',
        (s) => Math.round(config.floodFactor * base(s)),
        config.floodS,
        MIXED_BODIES,
        'per-request',
      ),
    );
  }

  // -------------------------------------------------------------------------------------------------------
  // The report (run-report.ts)

  const outcome = {
    machine,
    config,
    args,
    labels: systems.map((system) => system.label),
    steps: runner,
    idle,
    msr,
    light,
    half,
    twice,
    overload,
    flood,
    traces: traceSink?.received(),
  };
  printReport(outcome, say);
  await writeResults(outcome);
  say(`\nresults written to ${config.output}`);
} finally {
  await tearDownAll();
}
process.exit(0);
