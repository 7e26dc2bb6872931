/**
 * `npm run chaos`: the whole system, each service its own process as `npm start` runs it, on a
 * PostgreSQL cluster and a RabbitMQ node of the run's own (so that it may kill them), under open-loop load
 * with the `seed` simulators; while the load runs it kills RabbitMQ, each service and PostgreSQL and
 * freezes the third parties, one fault at a time, and measures how long each recovery takes. Once the load
 * stops and the system is idle it checks SPEC §4 through the public query APIs only, prints a table of the
 * faults and one of the checks, and exits 1 on any violation. Settings: config.ts (CHAOS_*), in the README.
 */
import { developmentToken, loadToolAuthConfig } from '../dev-auth.js';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ConfigError } from '@platform/config';
import { serviceQueues } from '@platform/messaging';
import { ensureDatabase } from '@platform/postgres';
import {
  DATABASE_NAMES,
  SERVICE_NAMES,
  freePort,
  freeSystemPorts,
  isolatedSystemEnv,
  localUrl,
  readinessUrls,
  waitUntilAllAnswer,
  type ServiceName,
} from '../isolated-system.js';
import { superviseChild, type SupervisedChild } from '../supervisor/child-process.js';
import { loadSystemLayout } from '../system-layout.js';
import { describeCounts, judge } from './checks.js';
import { loadChaosConfig, type ChaosConfig } from './config.js';
import { injectFault, type ChaosTargets, type InjectedFault } from './faults.js';
import { isIdle, observeIdleSystem, readStock, type ObservedSystem } from './observe-system.js';
import {
  countAnswers,
  SCARCE_PRODUCTS,
  SEED_ORDER_BODIES,
  startOpenLoopLoad,
  type OpenLoopLoad,
} from './open-loop-load.js';
import { createPostgresCluster, type PostgresCluster } from './postgres-cluster.js';
import { createRabbitmqCluster, type RabbitmqCluster } from './rabbitmq-cluster.js';
import { checksTable, faultsTable } from './report.js';
import { timeUntil } from './system-probes.js';

const say = (line = '') => process.stdout.write(`${line}\n`);

let config: ChaosConfig;
try {
  // `--cluster`: a three-node RabbitMQ cluster instead of one node (see rabbitmq-cluster.ts).
  const { values } = parseArgs({ options: { cluster: { type: 'boolean', default: false } } });
  config = loadChaosConfig(undefined, { cluster: values.cluster });
} catch (error) {
  if (
    !(error instanceof ConfigError) &&
    (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') !== true
  )
    throw error;
  console.error((error as Error).message);
  process.exit(2);
}

const EXCHANGE = 'chaos';

const dir = await mkdtemp(join(tmpdir(), 'chaos-'));
// mkdtemp makes it private to this user; PostgreSQL (as `postgres` when this runs as root) must reach in.
await chmod(dir, 0o755);
const systemLog = createWriteStream(join(dir, 'system.log'));
let postgres: PostgresCluster | undefined;
let rabbitmq: RabbitmqCluster | undefined;
const processes = new Map<string, SupervisedChild>();
let load: OpenLoopLoad | undefined;

/** Stops everything the run started; each step whatever the others did (a leftover broker or database would outlive the run). */
async function tearDown(): Promise<void> {
  const steps: (() => Promise<unknown>)[] = [
    async () => load?.stop(),
    () => Promise.all([...processes.values()].map((child) => child.stop(10_000))),
    async () => rabbitmq?.stop(),
    async () => postgres?.stop(),
    () => new Promise((resolve) => systemLog.end(resolve)),
  ];
  for (const step of steps) {
    await step().catch((error: unknown) => say(`while stopping: ${String(error)}`));
  }
}

process.once('SIGINT', () => {
  say(`interrupted: stopping everything (data and logs kept in ${dir})`);
  void tearDown().finally(() => process.exit(130));
});

async function run(): Promise<boolean> {
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s`;
  say(`chaos: ${config.rate} orders/s, faults ${config.faults.join(', ')} × ${config.rounds}, in ${dir}`);

  postgres = await createPostgresCluster({
    binDir: config.postgresBinDir,
    dir: join(dir, 'postgresql'),
    port: await freePort(),
  });
  rabbitmq = await createRabbitmqCluster({
    server: config.rabbitmqServer,
    env: config.env,
    dir: join(dir, 'rabbitmq'),
    name: `chaos-${randomBytes(4).toString('hex')}`,
    size: config.rabbitmqNodes,
  });
  say(
    `[${elapsed()}] own PostgreSQL at ${postgres.url} and RabbitMQ at ${rabbitmq.url} started` +
      (rabbitmq.nodes.length > 1 ? ` (a cluster of ${rabbitmq.nodes.length} nodes)` : ''),
  );

  const ports = await freeSystemPorts();
  const cluster = postgres;
  const databaseUrl = (service: ServiceName) => `${cluster.url}/${DATABASE_NAMES[service]}`;
  const env = isolatedSystemEnv({
    base: config.env,
    ports,
    databaseUrl,
    rabbitmqUrl: rabbitmq.url,
    exchange: EXCHANGE,
    simulatorsProfile: config.simulatorsProfile,
  });
  const layout = loadSystemLayout(env);
  for (const url of layout.databaseUrls) await ensureDatabase(url);
  for (const spec of layout.children) {
    processes.set(
      spec.name,
      superviseChild({
        name: spec.name,
        entry: spec.entry,
        env,
        niceness: spec.niceness,
        output: (name, line) => systemLog.write(`${name} │ ${line}\n`),
        report: (message) => {
          systemLog.write(`supervisor │ ${message}\n`);
          say(`[${elapsed()}]   supervisor: ${message}`);
        },
      }),
    );
  }
  await waitUntilAllAnswer(readinessUrls(ports), 120_000);
  const inventory = new pg.Client({ connectionString: databaseUrl('inventory') });
  await inventory.connect();
  await inventory.query('UPDATE stock SET available = $1 WHERE NOT (product_code = ANY($2))', [
    config.stock,
    SCARCE_PRODUCTS,
  ]);
  await inventory.end();
  say(`[${elapsed()}] system up (logs: ${join(dir, 'system.log')})`);
  // Every queue the services declared is replicated on every node (the default initial group size, 3).
  // (Each service's work queue at least: a listing that found no queue at all must not pass.)
  const notOnEveryNode =
    rabbitmq.nodes.length > 1
      ? await rabbitmq.queuesNotOnEveryNode(
          SERVICE_NAMES.map((service) => serviceQueues(EXCHANGE, service).queue),
        )
      : [];

  const serviceUrls = Object.fromEntries(
    SERVICE_NAMES.map((service) => [service, localUrl(ports[service])]),
  ) as Record<ServiceName, string>;
  const observed: ObservedSystem = {
    serviceUrls,
    gatewayUrl: localUrl(ports.gateway),
    rabbitmqUrl: rabbitmq.url,
    exchange: EXCHANGE,
    operatorToken: await developmentToken(
      env.AUTH_JWT_SECRET ?? '',
      loadToolAuthConfig(env),
      'chaos-run',
      ['operator'],
      24 * 3600,
    ),
  };
  const stockBefore = await readStock(observed);

  const loadStartedAt = Date.now();
  load = startOpenLoopLoad({
    orderUrl: serviceUrls.order,
    rate: config.rate,
    bodies: SEED_ORDER_BODIES,
    connections: config.connections,
  });
  const targets: ChaosTargets = {
    rabbitmq: rabbitmq.nodes,
    postgres,
    processes: Object.fromEntries(processes) as ChaosTargets['processes'],
    serviceUrls,
    load,
  };
  const faults: InjectedFault[] = [];
  await sleep(config.gapS * 1000);
  for (let round = 1; round <= config.rounds; round += 1) {
    for (const kind of config.faults) {
      say(`[${elapsed()}] round ${round}: ${kind}`);
      const occurrence = faults.filter((earlier) => earlier.kind === kind).length;
      const fault = await injectFault(kind, targets, config, occurrence);
      faults.push(fault);
      say(
        `[${elapsed()}]   ${fault.description}: ` +
          fault.recoveries
            .map((r) => `${r.what} ${r.ms === null ? 'NEVER' : `after ${(r.ms / 1000).toFixed(1)} s`}`)
            .join(', '),
      );
      await sleep(config.gapS * 1000);
    }
  }
  await load.stop();
  const sent = load.answers.length;
  say(`[${elapsed()}] load stopped: ${sent} orders sent (${describeCounts(countStatuses(load))})`);

  const settledMs = await timeUntil(() => isIdle(observed), Date.now(), config.settleS * 1000, 1_000);
  say(
    `[${elapsed()}] ${settledMs === null ? `still not idle after ${config.settleS} s` : `idle after ${(settledMs / 1000).toFixed(1)} s`}; checking`,
  );
  const checks = judge({
    acceptedIds: load.accepted.map((order) => order.id),
    stockBefore,
    faults,
    ...(await observeIdleSystem(observed)),
  });
  if (rabbitmq.nodes.length > 1) {
    checks.push({
      name: 'quorum queues on every node',
      ok: notOnEveryNode.length === 0,
      summary:
        notOnEveryNode.length === 0
          ? `every quorum queue had a replica on each of the ${rabbitmq.nodes.length} nodes`
          : `${notOnEveryNode.length} quorum queues not on every node`,
      violations: notOnEveryNode.slice(0, 10),
    });
  }

  say();
  say(`## chaos run: ${config.rate} orders/s, ${faults.length} faults`);
  say();
  say(faultsTable(faults, load.answers, loadStartedAt));
  say();
  say(checksTable(checks));
  say();
  const ok = checks.every((check) => check.ok);
  await writeFile(
    config.output,
    `${JSON.stringify(
      {
        measuredAt: new Date().toISOString(),
        settings: { ...config, env: undefined },
        answers: countStatuses(load),
        accepted: load.accepted.length,
        settledMs,
        faults: faults.map((fault) => ({ ...fault, atS: (fault.startedAt - loadStartedAt) / 1000 })),
        checks,
      },
      null,
      2,
    )}\n`,
  );
  say(`results written to ${config.output}`);
  say(ok ? 'chaos: every check held' : 'chaos: VIOLATIONS (see above)');
  return ok;
}

const countStatuses = (running: OpenLoopLoad) => countAnswers(running.answers, 0, Infinity);

let ok = false;
try {
  ok = await run();
} catch (error) {
  say(`chaos run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  await tearDown();
}
if (ok && !config.keep) await rm(dir, { recursive: true, force: true });
else say(`data and logs kept in ${dir}`);
process.exit(ok ? 0 : 1);
