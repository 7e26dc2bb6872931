/**
 * One whole system as the benchmark runs it: the supervisor of a checkout (this one, or a baseline built in
 * a worktree of its own by `--compare`), every service its own process, `fast` simulators, on databases,
 * an exchange and ports of its own, with a load generator of its own. Several can run side by side; the
 * benchmark pauses the others (SIGSTOP) while it measures one, so that neither competes for the two cores
 * nor adds its idle work to PostgreSQL's and RabbitMQ's CPU.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
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
import type { BenchConfig } from './config.js';
import type { ConnectionMode, LoadCommand, LoadReply, Percentiles, StepResult } from './load-protocol.js';
import {
  childrenOf,
  commandLine,
  findServerProcess,
  readTreesCpuMs,
  readTreesWakeUps,
} from './process-cpu.js';
import type { MeasuredStep } from './report.js';

/** A running system under test. */
export interface SystemUnderTest {
  /** How reports name it: `this` or the baseline's short commit. */
  readonly label: string;
  /** Sends `rate` orders a second for `seconds`, unmeasured (V8 compiles the hot code meanwhile). */
  warmUp(rate: number, seconds: number, bodies: string[]): Promise<void>;
  /** CPU of each process with no load over `seconds`, in ms per second. */
  measureIdle(seconds: number): Promise<Record<string, number>>;
  /** One open-loop step, measured: latencies, finals, CPU by process, log lines and commits. */
  measure(step: StepToMeasure): Promise<MeasuredStep>;
  /** Stops every process of the system (SIGSTOP): it uses no CPU until `resume`. */
  pause(): void;
  resume(): void;
  /** Stops the system and removes its databases, queues and exchange; never throws. */
  tearDown(): Promise<void>;
}

/** A step to measure: `rate` orders a second for `durationS`, bodies in turn, over `connections`. */
export interface StepToMeasure {
  scenario: string;
  rate: number;
  durationS: number;
  bodies: string[];
  connections: ConnectionMode;
}

/**
 * Starts the system of the checkout at `checkoutDir` (its `tools/dist/supervisor/main.js`, built) and its
 * load generator (always this checkout's), and waits until every service is ready.
 * @throws Error when the system does not become ready within two minutes (its last lines are printed)
 */
export async function startSystemUnderTest(options: {
  label: string;
  checkoutDir: string;
  config: BenchConfig;
  /** `--replicas` values, as npm start takes them. */
  replicaArgs: readonly string[];
  /** Extra environment of this system (tracing). */
  env?: Record<string, string | undefined>;
  say: (line: string) => void;
}): Promise<SystemUnderTest> {
  const { config, say } = options;
  const id = randomBytes(4).toString('hex');
  const exchange = `bench.${id}`;
  const databaseUrl = (service: ServiceName) => {
    const url = new URL(config.postgresUrl);
    url.pathname = `/bench_${id}_${DATABASE_NAMES[service]}`;
    return url.toString();
  };
  const ports = await freeSystemPorts();
  const profileArgs =
    config.cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${config.cpuProfileDir}`];
  const env: Record<string, string | undefined> = {
    ...isolatedSystemEnv({
      base: config.env,
      ports,
      databaseUrl,
      rabbitmqUrl: config.rabbitmqUrl,
      exchange,
      simulatorsProfile: 'fast',
    }),
    ...(profileArgs.length > 0 ? { SUPERVISOR_NODE_ARGS: profileArgs.join(' ') } : {}),
    // Tracing is on only when asked for: the services never inherit an endpoint from the bench's shell.
    OTEL_EXPORTER_OTLP_ENDPOINT: undefined,
    ...options.env,
  };

  let logLines = 0;
  let stopping = false;
  let recent = '';
  const count = (chunk: Buffer) => {
    for (const byte of chunk) if (byte === 10) logLines += 1;
    // Kept for the error message should the system fail to start.
    recent = (recent + chunk.toString()).slice(-4_000);
  };
  const supervisor: ChildProcess = spawn(
    process.execPath,
    [
      ...profileArgs,
      join(options.checkoutDir, 'tools/dist/supervisor/main.js'),
      ...options.replicaArgs.flatMap((value) => ['--replicas', value]),
    ],
    // The supervisor names its children's entry points relative to the checkout (services/<name>/dist/…):
    // run from anywhere else, a baseline's supervisor would start this checkout's services.
    { env, cwd: options.checkoutDir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  supervisor.stdout?.on('data', count);
  supervisor.stderr?.on('data', count);
  supervisor.once('exit', (code) => {
    if (stopping) return;
    say(recent);
    say(`the system under test ${options.label} exited (code ${String(code)}); see its last lines above`);
    process.exit(1);
  });
  let loadGenerator: ChildProcess | undefined;

  async function tearDown(): Promise<void> {
    stopping = true;
    resume();
    if (loadGenerator?.connected) {
      const exited = new Promise((resolve) => loadGenerator?.once('exit', resolve));
      loadGenerator.send({ kind: 'stop' } satisfies LoadCommand);
      await Promise.race([exited, sleep(10_000)]);
    }
    const stillRunning = () => supervisor.exitCode === null && supervisor.signalCode === null;
    if (stillRunning()) {
      const exited = new Promise((resolve) => supervisor.once('exit', resolve));
      supervisor.kill('SIGTERM');
      await Promise.race([exited, sleep(45_000)]);
      if (stillRunning()) supervisor.kill('SIGKILL');
    }
    for (const service of SERVICES) {
      const name = new URL(databaseUrl(service)).pathname.slice(1);
      await withAdminDatabase(config.postgresUrl, (client) =>
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

  try {
    await waitUntilAllAnswer(readinessUrls(ports), 120_000);
    await withDatabase(databaseUrl('inventory'), (client) =>
      client.query('UPDATE stock SET available = $1, reserved = 0, sold = 0', [config.stock]),
    );
    loadGenerator = fork(fileURLToPath(new URL('./load-generator.js', import.meta.url)), { env: config.env });
    await command({
      kind: 'setup',
      orderUrl: localUrl(ports.order),
      rabbitmqUrl: config.rabbitmqUrl,
      exchange,
      connections: config.connections,
    });
  } catch (error) {
    say(recent);
    await tearDown();
    throw error;
  }
  say(`system ${options.label} up (supervisor pid ${String(supervisor.pid)}, exchange ${exchange})`);

  function command(message: LoadCommand): Promise<LoadReply> {
    const child = loadGenerator;
    if (!child) throw new Error('no load generator');
    return new Promise((resolve) => {
      child.once('message', (reply: LoadReply) => resolve(reply));
      child.send(message);
    });
  }

  /** Autovacuum is off on this project's machines (a CI setting): each step starts from vacuumed tables. */
  async function vacuumAll(): Promise<void> {
    for (const service of SERVICES) {
      await withDatabase(databaseUrl(service), (client) => client.query('VACUUM (ANALYZE)'));
    }
  }

  /** Transactions committed so far in each of the system's databases (pg_stat_database). */
  function commitsByDatabase(): Promise<Record<string, number>> {
    return withAdminDatabase(config.postgresUrl, async (client) => {
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

  /**
   * The processes whose CPU is counted: each service (all its instances together), the simulators, the
   * console, the supervisor, RabbitMQ, PostgreSQL, and the load generator (reported, never counted).
   */
  function processTrees(): Map<string, number[]> {
    const trees = new Map<string, number[]>();
    const add = (name: string, pid: number) => trees.set(name, [...(trees.get(name) ?? []), pid]);
    for (const child of childrenOf(supervisor.pid ?? -1)) {
      const line = commandLine(child);
      const name =
        /services\/(\w+)\//.exec(line)?.[1] ?? (line.includes('simulators/') ? 'simulators' : undefined);
      if (name) add(name, child);
    }
    const postgres = findServerProcess(Number(new URL(config.postgresUrl).port || 5432), 'postgres');
    const rabbitmq = findServerProcess(Number(new URL(config.rabbitmqUrl).port || 5672), 'beam.smp');
    if (postgres) add('postgresql', postgres);
    if (rabbitmq) add('rabbitmq', rabbitmq);
    if (loadGenerator?.pid) add('load-generator', loadGenerator.pid);
    return trees;
  }

  /** Wake-ups of each process since this reading began (PostgreSQL's whole tree: its backends too). */
  function wakeUpReading(): { read(): Record<string, number> } {
    const trees = new Map([...processTrees()].filter(([name]) => name !== 'load-generator'));
    const before = readTreesWakeUps(trees);
    return {
      read: () =>
        Object.fromEntries(
          [...readTreesWakeUps(trees)].map(([name, n]) => [name, n - (before.get(name) ?? 0)]),
        ),
    };
  }

  /** CPU used by each process since this reading began, in ms. */
  function cpuReading(): { read(): Record<string, number> } {
    const trees = processTrees();
    const supervisorPid = supervisor.pid ?? -1;
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

  /** Every process of the system: the supervisor, whatever runs under it, and the load generator. */
  function processes(): number[] {
    const all: number[] = [];
    const visit = (pid: number) => {
      all.push(pid);
      for (const child of childrenOf(pid)) visit(child);
    };
    if (supervisor.pid) visit(supervisor.pid);
    if (loadGenerator?.pid) all.push(loadGenerator.pid);
    return all;
  }
  let paused: number[] = [];
  function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch {
        // Gone meanwhile.
      }
    }
  }
  function pause(): void {
    if (paused.length > 0) return;
    paused = processes();
    signalAll(paused, 'SIGSTOP');
  }
  function resume(): void {
    // Children first, the supervisor last: it must not find them stopped and think them hung.
    signalAll([...paused].reverse(), 'SIGCONT');
    paused = [];
  }

  return {
    label: options.label,
    async warmUp(rate, seconds, bodies) {
      await command({
        kind: 'run',
        rate,
        durationS: seconds,
        bodies,
        drainS: config.drainS,
        steadyFromS: 0,
        connections: 'pooled',
      });
      await vacuumAll();
    },
    async measureIdle(seconds) {
      await sleep(3_000);
      const idle = cpuReading();
      await sleep(seconds * 1000);
      return Object.fromEntries(
        Object.entries(idle.read())
          .filter(([name]) => name !== 'load-generator')
          .map(([name, ms]) => [name, ms / seconds]),
      );
    },
    async measure(step) {
      await vacuumAll();
      const commitsBefore = await commitsByDatabase();
      const cpu = cpuReading();
      const wakeUps = wakeUpReading();
      const linesBefore = logLines;
      const reply = await command({
        kind: 'run',
        rate: step.rate,
        durationS: step.durationS,
        bodies: step.bodies,
        drainS: config.drainS,
        steadyFromS: Math.min(config.steadyFromS, step.durationS / 2),
        connections: step.connections,
      });
      if (reply.kind !== 'result') throw new Error(`unexpected reply ${reply.kind}`);
      const cpuMs = cpu.read();
      const wakeUpsByProcess = wakeUps.read();
      const commitsAfter = await commitsByDatabase();
      return {
        ...withoutNulls(reply.result),
        scenario: step.scenario,
        cpuMs,
        wakeUps: wakeUpsByProcess,
        logLines: logLines - linesBefore,
        // The statistics collector's own reads and the vacuum count too: a handful, against thousands.
        commits: Object.fromEntries(
          Object.entries(commitsAfter).map(([database, n]) => [database, n - (commitsBefore[database] ?? 0)]),
        ),
      };
    },
    pause,
    resume,
    tearDown,
  };
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

/** Runs `run` on a connection of its own to `url`, closed afterwards. */
export async function withDatabase<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** `withDatabase` on the server's `postgres` database. */
export function withAdminDatabase<T>(
  postgresUrl: string,
  run: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const admin = new URL(postgresUrl);
  admin.pathname = '/postgres';
  return withDatabase(admin.toString(), run);
}
