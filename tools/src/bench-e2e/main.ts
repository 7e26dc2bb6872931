/**
 * `npm run bench:e2e`: the whole system as `npm start` runs it (the supervisor, each service its own
 * process, `fast` simulators), on databases, an exchange and ports of its own, under open-loop load at a
 * ladder of fixed rates. For each rate it reports intake latency, finals per second, order-to-final
 * latency, orders left unfinished, CPU per order for every process (services, simulators, supervisor,
 * RabbitMQ, PostgreSQL) and log lines per order; then the maximum sustainable rate, a step at twice it
 * (does throughput hold?) and one at three times it (is overload refused early?). It prints Markdown
 * tables and writes everything to a JSON file. Settings: config.ts (BENCH_*), documented in the README.
 *
 * It exits 0 once it has measured: missing a target is a result, not an error.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Connection } from 'rabbitmq-client';
import { SUBSCRIPTIONS } from '@platform/contracts';
import { deleteTopology } from '@platform/messaging';
import {
  DATABASE_NAMES,
  SERVICE_NAMES as SERVICES,
  freeSystemPorts,
  isolatedSystemEnv,
  localUrl,
  readinessUrls,
  waitUntilAllAnswer,
  type ServiceName,
} from '../isolated-system.js';
import { describeReplicas, parseReplicas } from '../supervisor/replicas.js';
import { loadBenchConfig } from './config.js';
import { startOtlpSink } from './otlp-sink.js';
import type { LoadCommand, LoadReply, Percentiles, StepResult } from './load-protocol.js';
import { commandLine, childrenOf, findServerProcess, readTreesCpuMs } from './process-cpu.js';
import {
  cpuPerOrderMs,
  cpuTable,
  isSustainable,
  maximumSustainableRate,
  stepsTable,
  type MeasuredStep,
} from './report.js';

const config = loadBenchConfig();
// `--replicas` as npm start takes it (`2`, `payment=3`): the system under test runs that many instances.
const say = (line = '') => process.stdout.write(`${line}\n`);
let replicaArgs: string[];
let replicas: ReturnType<typeof parseReplicas>;
try {
  replicaArgs =
    parseArgs({ options: { replicas: { type: 'string', multiple: true } } }).values.replicas ?? [];
  replicas = parseReplicas(replicaArgs);
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
// The system under test

const id = randomBytes(4).toString('hex');
const exchange = `bench.${id}`;
const databaseUrl = (service: ServiceName) => {
  const url = new URL(config.postgresUrl);
  url.pathname = `/bench_${id}_${DATABASE_NAMES[service]}`;
  return url.toString();
};

const ports = await freeSystemPorts();
const traceSink = config.tracesSampling === undefined ? undefined : await startOtlpSink();

const systemEnv: Record<string, string | undefined> = {
  ...isolatedSystemEnv({
    base: config.env,
    ports,
    databaseUrl,
    rabbitmqUrl: config.rabbitmqUrl,
    exchange,
    simulatorsProfile: 'fast',
  }),
  ...(config.cpuProfileDir === undefined
    ? {}
    : { SUPERVISOR_NODE_ARGS: profileArgs(config.cpuProfileDir).join(' ') }),
  // Tracing is on only when asked for: the services never inherit an endpoint from the bench's shell.
  OTEL_EXPORTER_OTLP_ENDPOINT: traceSink?.url,
  ...(traceSink && {
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: String(config.tracesSampling),
  }),
};

function profileArgs(dir: string): string[] {
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

let logLines = 0;
let supervisor: ChildProcess | undefined;
let loadGenerator: ChildProcess | undefined;

function startSupervisor(): ChildProcess {
  const entry = fileURLToPath(new URL('../supervisor/main.js', import.meta.url));
  const nodeArgs = config.cpuProfileDir === undefined ? [] : profileArgs(config.cpuProfileDir);
  const child = spawn(
    process.execPath,
    [...nodeArgs, entry, ...replicaArgs.flatMap((value) => ['--replicas', value])],
    {
      env: systemEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let recent = '';
  const count = (chunk: Buffer) => {
    for (const byte of chunk) if (byte === 10) logLines += 1;
    // Kept for the error message should the system fail to start.
    recent = (recent + chunk.toString()).slice(-4_000);
  };
  child.stdout.on('data', count);
  child.stderr.on('data', count);
  child.once('exit', (code) => {
    if (!stopping) {
      say(recent);
      say(`the system under test exited (code ${String(code)}); see its last lines above`);
      process.exit(1);
    }
  });
  return child;
}

async function withDatabase<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** Transactions committed so far in each of the system's databases (pg_stat_database). */
async function commitsByDatabase(): Promise<Record<string, number>> {
  const admin = new URL(config.postgresUrl);
  admin.pathname = '/postgres';
  return withDatabase(admin.toString(), async (client) => {
    const rows = (
      await client.query<{ datname: string; commits: string }>(
        `SELECT datname, xact_commit AS commits FROM pg_stat_database WHERE datname LIKE $1`,
        [`bench_${id}_%`],
      )
    ).rows;
    return Object.fromEntries(
      rows.map((row) => [row.datname.replace(`bench_${id}_`, ''), Number(row.commits)]),
    );
  });
}

/** Autovacuum is off on this project's machines (a CI setting): each step starts from vacuumed tables. */
async function vacuumAll(): Promise<void> {
  for (const service of SERVICES) {
    await withDatabase(databaseUrl(service), (client) => client.query('VACUUM (ANALYZE)'));
  }
}

/**
 * The processes whose CPU is counted: each service (all its instances together), the simulators, the
 * supervisor, RabbitMQ, PostgreSQL.
 */
function processTrees(): Map<string, number[]> {
  const trees = new Map<string, number[]>();
  const add = (name: string, pid: number) => trees.set(name, [...(trees.get(name) ?? []), pid]);
  for (const child of childrenOf(supervisor?.pid ?? -1)) {
    const command = commandLine(child);
    const name =
      /services\/(\w+)\//.exec(command)?.[1] ?? (command.includes('simulators/') ? 'simulators' : undefined);
    if (name) add(name, child);
  }
  const postgres = findServerProcess(Number(new URL(config.postgresUrl).port || 5432), 'postgres');
  const rabbitmq = findServerProcess(Number(new URL(config.rabbitmqUrl).port || 5672), 'beam.smp');
  if (postgres) add('postgresql', postgres);
  if (rabbitmq) add('rabbitmq', rabbitmq);
  if (loadGenerator?.pid) add('load-generator', loadGenerator.pid);
  return trees;
}

/** CPU used by each process since `before` (a reading of this function), in ms. */
function cpuReading(): { read(): Record<string, number> } {
  const trees = processTrees();
  const supervisorPid = supervisor?.pid ?? -1;
  const snapshot = () => {
    const all = readTreesCpuMs(new Map([...trees, ['supervisor-tree', [supervisorPid]]]));
    const children = [...trees.keys()]
      // Every process the supervisor started (the console too): what is left is the supervisor's own.
      .filter((name) => !['postgresql', 'rabbitmq', 'load-generator'].includes(name))
      .reduce((sum, name) => sum + (all.get(name) ?? 0), 0);
    all.set('supervisor', (all.get('supervisor-tree') ?? 0) - children);
    all.delete('supervisor-tree');
    return all;
  };
  const before = snapshot();
  return {
    read() {
      const after = snapshot();
      return Object.fromEntries([...after].map(([name, ms]) => [name, ms - (before.get(name) ?? 0)]));
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// The load generator

function command(message: LoadCommand): Promise<LoadReply> {
  const child = loadGenerator;
  if (!child) throw new Error('no load generator');
  return new Promise((resolve) => {
    child.once('message', (reply: LoadReply) => resolve(reply));
    child.send(message);
  });
}

async function measure(
  scenario: string,
  rate: number,
  durationS: number,
  bodies: string[],
): Promise<MeasuredStep> {
  await vacuumAll();
  const commitsBefore = await commitsByDatabase();
  const cpu = cpuReading();
  const linesBefore = logLines;
  const reply = await command({
    kind: 'run',
    rate,
    durationS,
    bodies,
    drainS: config.drainS,
    steadyFromS: Math.min(config.steadyFromS, durationS / 2),
  });
  if (reply.kind !== 'result') throw new Error(`unexpected reply ${reply.kind}`);
  const cpuMs = cpu.read();
  const commitsAfter = await commitsByDatabase();
  const step: MeasuredStep = {
    ...withoutNulls(reply.result),
    scenario,
    cpuMs,
    logLines: logLines - linesBefore,
    // The statistics collector's own reads and the vacuum count too: a handful, against thousands.
    commits: Object.fromEntries(
      Object.entries(commitsAfter).map(([database, n]) => [database, n - (commitsBefore[database] ?? 0)]),
    ),
  };
  say(describe(step));
  return step;
}

/** IPC carries JSON, which turns NaN (a percentile of no samples) into null: back to NaN. */
function withoutNulls(result: StepResult): StepResult {
  const percentiles = (p: Percentiles): Percentiles =>
    Object.fromEntries(
      Object.entries(p).map(([key, value]) => [key, value ?? Number.NaN]),
    ) as unknown as Percentiles;
  return {
    ...result,
    intakeMs: percentiles(result.intakeMs),
    orderToFinalMs: percentiles(result.orderToFinalMs),
  };
}

function describe(step: MeasuredStep): string {
  const f = step.orderToFinalMs;
  return (
    `  ${step.scenario} ${step.rate}/s: accepted ${step.accepted}/${step.sent}, intake p99 ${step.intakeMs.p99.toFixed(1)} ms, ` +
    `finals ${step.steadyFinalsPerS.toFixed(1)}/s, to final p50 ${f.p50.toFixed(0)} p99 ${f.p99.toFixed(0)} ms, ` +
    `not final ${step.notFinal}, CPU ${cpuPerOrderMs(step).toFixed(2)} ms/order ` +
    `(${isSustainable(step) ? 'sustainable' : 'not sustainable'})`
  );
}

async function ladder(scenario: string, rates: number[], bodies: string[]): Promise<MeasuredStep[]> {
  const steps: MeasuredStep[] = [];
  let unsustainableInARow = 0;
  for (const rate of rates) {
    if (unsustainableInARow >= config.stopAfterUnsustainable) {
      say(`  ${scenario} ${rate}/s: skipped (${unsustainableInARow} rates in a row were not sustainable)`);
      continue;
    }
    const step = await measure(scenario, rate, config.durationS, bodies);
    steps.push(step);
    unsustainableInARow = isSustainable(step) ? 0 : unsustainableInARow + 1;
  }
  return steps;
}

// ---------------------------------------------------------------------------------------------------------
// Teardown

let stopping = false;

async function tearDown(): Promise<void> {
  stopping = true;
  if (loadGenerator?.connected) {
    loadGenerator.send({ kind: 'stop' } satisfies LoadCommand);
    await new Promise((resolve) => loadGenerator?.once('exit', resolve));
  }
  const running = supervisor;
  const stillRunning = () => running?.exitCode === null && running.signalCode === null;
  if (running && stillRunning()) {
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await Promise.race([exited, sleep(45_000)]);
    if (stillRunning()) running.kill('SIGKILL');
  }
  for (const service of SERVICES) {
    const name = new URL(databaseUrl(service)).pathname.slice(1);
    const admin = new URL(config.postgresUrl);
    admin.pathname = '/postgres';
    await withDatabase(admin.toString(), (client) =>
      client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`),
    ).catch((error: unknown) => say(`could not drop ${name}: ${String(error)}`));
  }
  const connection = new Connection({ url: config.rabbitmqUrl });
  try {
    await deleteTopology(connection, exchange, SUBSCRIPTIONS, config.retryDelaysMs);
    await connection.exchangeDelete({ exchange });
  } catch (error) {
    say(`could not remove exchange ${exchange} and its queues: ${String(error)}`);
  } finally {
    await connection.close();
  }
}

process.once('SIGINT', () => {
  say('interrupted: removing what the benchmark created');
  void tearDown().finally(() => process.exit(130));
});

// ---------------------------------------------------------------------------------------------------------
// The run

const versions = await withDatabase(config.postgresUrl.replace(/\/?$/, '/postgres'), async (client) => ({
  postgresql: (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version,
  autovacuum: (await client.query<{ autovacuum: string }>('SHOW autovacuum')).rows[0]?.autovacuum,
}));
const machine = {
  cores: cpus().length,
  cpu: cpus()[0]?.model,
  node: process.version,
  ...versions,
};
say(
  `bench:e2e on ${machine.cores} cores (${machine.cpu ?? '?'}), Node ${machine.node}, PostgreSQL ${machine.postgresql ?? '?'} ` +
    `(autovacuum ${machine.autovacuum ?? '?'}; the benchmark vacuums before each rate), exchange ${exchange}, ` +
    `instances: ${describeReplicas(replicas) || 'one of each service'}`,
);

try {
  supervisor = startSupervisor();
  await waitUntilAllAnswer(readinessUrls(ports), 120_000);
  await withDatabase(databaseUrl('inventory'), (client) =>
    client.query('UPDATE stock SET available = $1, reserved = 0, sold = 0', [config.stock]),
  );
  loadGenerator = fork(fileURLToPath(new URL('./load-generator.js', import.meta.url)), {
    env: config.env,
  });
  await command({
    kind: 'setup',
    orderUrl: localUrl(ports.order),
    rabbitmqUrl: config.rabbitmqUrl,
    exchange,
    connections: config.connections,
  });
  say(`system up (supervisor pid ${String(supervisor.pid)})`);
  if (config.warmup.seconds > 0) {
    say(`warming up: ${config.warmup.rate} orders/s for ${config.warmup.seconds} s (not measured)`);
    await command({
      kind: 'run',
      rate: config.warmup.rate,
      durationS: config.warmup.seconds,
      bodies: MIXED_BODIES,
      drainS: config.drainS,
      steadyFromS: 0,
    });
    await vacuumAll();
  }
  say(`measuring idle CPU for ${config.idleS} s`);
  await sleep(3_000);
  const idle = cpuReading();
  await sleep(config.idleS * 1000);
  const idleCpuMsPerS = Object.fromEntries(
    Object.entries(idle.read())
      .filter(([name]) => name !== 'load-generator')
      .map(([name, ms]) => [name, ms / config.idleS]),
  );
  const idleTotal = Object.values(idleCpuMsPerS).reduce((sum, ms) => sum + ms, 0);
  say(
    `idle: ${idleTotal.toFixed(1)} ms of CPU per second (${JSON.stringify(idleCpuMsPerS, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(1)) : v))})`,
  );

  const steps: MeasuredStep[] = [];
  if (config.lightRate > 0) {
    say('light load');
    steps.push(await measure('light', config.lightRate, Math.max(config.durationS / 2, 5), MIXED_BODIES));
  }
  say('mixed users and products');
  const mixed = await ladder('mixed', config.rates, MIXED_BODIES);
  steps.push(...mixed);
  const msr = maximumSustainableRate(mixed);
  say(`maximum sustainable rate (mixed): ${msr === undefined ? 'none of the rates' : `${msr} orders/s`}`);

  let twice: MeasuredStep | undefined;
  if (msr !== undefined && config.twice) {
    twice = mixed.find((step) => step.rate === 2 * msr);
    if (!twice) {
      say('twice the maximum sustainable rate');
      twice = await measure('twice', 2 * msr, config.durationS, MIXED_BODIES);
      steps.push(twice);
    }
  }

  if (config.singleProductRates.length > 0) say(`single product (${HOT_PRODUCT})`);
  const single = await ladder('single', config.singleProductRates, SINGLE_PRODUCT_BODIES);
  steps.push(...single);
  const singleMsr = maximumSustainableRate(single);

  let overload: MeasuredStep | undefined;
  if (config.overloadFactor > 0) {
    const base = msr ?? Math.min(...config.rates);
    const rate = Math.round(config.overloadFactor * base);
    say(`overload: ${rate} orders/s (${config.overloadFactor} × ${base}) for ${config.overloadS} s`);
    overload = await measure('overload', rate, config.overloadS, MIXED_BODIES);
    steps.push(overload);
  }

  say();
  say(`## bench:e2e, ${machine.cores} cores, Node ${machine.node}, PostgreSQL ${machine.postgresql ?? '?'}`);
  say();
  say(stepsTable(steps));
  say();
  say('CPU ms per final order, by process:');
  say();
  say(cpuTable(steps));
  say();
  const at = (rate: number) => mixed.find((step) => step.rate === rate);
  const light = steps.find((step) => step.scenario === 'light');
  const checks = {
    maximumSustainableRate: msr ?? null,
    singleProductMaximumSustainableRate: singleMsr ?? null,
    idleCpuMsPerS: idleTotal,
    at250: at(250) && { orderToFinalP99Ms: at(250)?.orderToFinalMs.p99, intakeP99Ms: at(250)?.intakeMs.p99 },
    cpuMsPerOrderAtMsr: msr === undefined ? null : cpuPerOrderMs(at(msr) as MeasuredStep),
    lightOrderToFinalP50Ms: light?.orderToFinalMs.p50,
    finalsAtTwiceMsrShare: twice && msr ? twice.steadyFinalsPerS / msr : null,
    overload: overload && {
      rate: overload.rate,
      maxIntakeMs: overload.intakeMs.max,
      refusedWithRetryAfter: overload.retryAfter,
      accepted: overload.accepted,
      acceptedEndedTimeout: overload.outcomes['CANCELLED timeout'] ?? 0,
      acceptedNotFinal: overload.notFinal,
    },
  };
  say('Targets (issue 9):');
  const verdict = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? 'met' : 'MISSED');
  say(`  maximum sustainable rate ≥ 500/s: ${msr ?? 'none'} → ${verdict(msr !== undefined && msr >= 500)}`);
  say(
    `  at 250/s: order-to-final p99 < 250 ms (${checks.at250?.orderToFinalP99Ms?.toFixed(0) ?? '–'}), ` +
      `intake p99 < 25 ms (${checks.at250?.intakeP99Ms?.toFixed(1) ?? '–'}) → ` +
      verdict(
        checks.at250 &&
          (checks.at250.orderToFinalP99Ms ?? Infinity) < 250 &&
          (checks.at250.intakeP99Ms ?? Infinity) < 25,
      ),
  );
  say(
    `  CPU per order < 4 ms at the sustainable rate: ${checks.cpuMsPerOrderAtMsr?.toFixed(2) ?? '–'} → ` +
      verdict(checks.cpuMsPerOrderAtMsr === null ? undefined : checks.cpuMsPerOrderAtMsr < 4),
  );
  say(
    `  at 10/s, order-to-final p50 < 50 ms: ${light?.orderToFinalMs.p50.toFixed(0) ?? '–'} → ` +
      verdict(light && light.orderToFinalMs.p50 < 50),
  );
  say(
    `  finals/s at twice the sustainable rate ≥ 90 % of it: ${checks.finalsAtTwiceMsrShare === null ? '–' : `${(100 * checks.finalsAtTwiceMsrShare).toFixed(0)} %`} → ` +
      verdict(checks.finalsAtTwiceMsrShare === null ? undefined : checks.finalsAtTwiceMsrShare >= 0.9),
  );
  if (checks.overload) {
    const o = checks.overload;
    say(
      `  overload at ${o.rate}/s: longest wait ${o.maxIntakeMs.toFixed(0)} ms (< 1000), ${o.refusedWithRetryAfter} refused with Retry-After, ` +
        `${o.acceptedEndedTimeout} accepted ended timeout (0), ${o.acceptedNotFinal} accepted not final (0) → ` +
        verdict(o.maxIntakeMs < 1000 && o.acceptedEndedTimeout === 0 && o.acceptedNotFinal === 0),
    );
  }
  say(`  idle CPU: ${idleTotal.toFixed(1)} ms per second`);
  const traces = traceSink?.received();
  say(
    traces
      ? `  tracing on, sampling ${config.tracesSampling}: ${traces.requests} OTLP exports, ${(traces.bytes / 1e6).toFixed(1)} MB`
      : '  tracing off',
  );
  await writeFile(
    config.output,
    `${JSON.stringify({ measuredAt: new Date().toISOString(), machine, settings: { ...config, env: undefined, replicas }, idleCpuMsPerS, traces, checks, steps }, null, 2)}\n`,
  );
  say(`\nresults written to ${config.output}`);
} finally {
  await tearDown();
}
process.exit(0);
