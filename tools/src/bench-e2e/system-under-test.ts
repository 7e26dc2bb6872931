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
import {
  freeSystemPorts,
  isolatedSystemEnv,
  localUrl,
  readinessUrls,
  waitUntilAllAnswer,
} from '../isolated-system.js';
import type { BenchConfig } from './config.js';
import { withDatabase } from './database-session.js';
import type { ConnectionMode, LoadCommand, LoadReply, Percentiles, StepResult } from './load-protocol.js';
import type { MeasuredStep } from './report.js';
import { systemProcesses } from './system-processes.js';
import { systemStorage } from './system-storage.js';

// Where these lived first: machine-reference.ts still takes them from here.
export { withAdminDatabase, withDatabase } from './database-session.js';

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
  const storage = systemStorage(id, config, say);
  const { exchange, databaseUrl } = storage;
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
  const processes = systemProcesses({
    supervisor,
    loadGenerator: () => loadGenerator,
    postgresUrl: config.postgresUrl,
    rabbitmqUrl: config.rabbitmqUrl,
  });

  async function tearDown(): Promise<void> {
    stopping = true;
    processes.resume();
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
    await storage.remove();
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
      await storage.vacuumAll();
    },
    async measureIdle(seconds) {
      await sleep(3_000);
      const idle = processes.cpuReading();
      await sleep(seconds * 1000);
      return Object.fromEntries(
        Object.entries(idle.read())
          .filter(([name]) => name !== 'load-generator')
          .map(([name, ms]) => [name, ms / seconds]),
      );
    },
    async measure(step) {
      await storage.vacuumAll();
      const commitsBefore = await storage.commitsByDatabase();
      const cpu = processes.cpuReading();
      const wakeUps = processes.wakeUpReading();
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
      const commitsAfter = await storage.commitsByDatabase();
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
    pause: () => processes.pause(),
    resume: () => processes.resume(),
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
