import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Connection } from 'rabbitmq-client';
import { ConfigError } from '@platform/config';
import { brokerAddresses } from '@platform/messaging';
import { ensureDatabase } from '@platform/postgres';
import { superviseChild, type SupervisedChild } from './child-process.js';
import { loadSupervisorConfig } from './config.js';
import { createLineFormatter } from './log-lines.js';
import { serveInstanceMetrics, type InstanceMetricsServer } from './instance-metrics.js';
import { describeReplicas, parseReplicas, type Replicas } from './replicas.js';
import { SERVICE_NAMES, type ServiceName } from '../isolated-system.js';
import { loadSystemLayout, type ChildSpec, type SystemLayout } from '../system-layout.js';
import { developmentSecret, developmentToken, loadToolAuthConfig } from '../dev-auth.js';

// `npm start`: checks PostgreSQL and RabbitMQ, prepares the databases, starts every service and simulator
// as its own process, waits until each is ready, prints where everything is, and keeps them running.
// `npm start -- --replicas N` (or `--replicas payment=3`, see replicas.ts) runs several instances of the
// services, each sharing its service's port.
const config = loadSupervisorConfig();
let layout: SystemLayout;
let replicas: Replicas;
try {
  const { values } = parseArgs({ options: { replicas: { type: 'string', multiple: true } } });
  replicas = parseReplicas(values.replicas ?? []);
  layout = loadSystemLayout(config.childEnv);
} catch (error) {
  if (
    !(error instanceof ConfigError) &&
    (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') !== true
  )
    throw error;
  console.error((error as Error).message);
  process.exit(error instanceof ConfigError ? 1 : 2);
}
const say = (line: string) => process.stdout.write(`${line}\n`);
const bold = (text: string) => (config.colour ? `\x1b[1m${text}\x1b[0m` : text);

// Tokens need a key. Without one configured, the local system signs with a development secret of its own
// (`.dev/auth-secret`, kept across restarts), and the operator gets a token below; never in required mode.
const auth = loadToolAuthConfig(config.childEnv);
let generatedSecret: string | undefined;
if (auth.secret === undefined && auth.jwksUrl === undefined) {
  if (auth.mode === 'required') {
    console.error(
      'AUTH_MODE=required: set AUTH_JWT_SECRET (HS256) or AUTH_JWKS_URL; npm start generates a development ' +
        'secret only in optional mode',
    );
    process.exit(1);
  }
  generatedSecret = await developmentSecret(true);
  config.childEnv.AUTH_JWT_SECRET = generatedSecret;
}
// The console reads the services where this supervisor runs them (unless told otherwise).
for (const service of ['order', 'inventory', 'payment', 'fulfilment', 'notification'] as const) {
  config.childEnv[`CONSOLE_${service.toUpperCase()}_API_URL`] ??= layout.urls[service];
}

// Every service's database is on the same server by default; the order service's stands for it.
await requirePostgres(layout.databaseUrls[0] ?? 'postgres://127.0.0.1:5432/orders');
await requireRabbitmq(layout.rabbitmq.url);
for (const url of layout.databaseUrls) await ensureDatabase(url);

// One instance of the console and the simulators; of a service as many as asked, named `payment#2`.
const instances = layout.children.flatMap((spec) => {
  const count = SERVICE_NAMES.includes(spec.name as ServiceName) ? replicas[spec.name as ServiceName] : 1;
  if (count === 1) return [{ spec, name: spec.name, sharedPorts: false }];
  return Array.from({ length: count }, (_, i) => ({
    spec,
    name: `${spec.name}#${i + 1}`,
    sharedPorts: true,
  }));
});
// A shared port's /metrics answers for one instance: each replicated service gets an endpoint here that
// adds up all of its instances, and the console reads that one.
const instanceMetrics = new Map<ServiceName, InstanceMetricsServer>();
for (const service of SERVICE_NAMES.filter((name) => replicas[name] > 1)) {
  const server = await serveInstanceMetrics(() =>
    children.filter((_, i) => instances[i]?.spec.name === service).map((child) => child.worker()),
  );
  instanceMetrics.set(service, server);
  // An empty variable counts as unset, as everywhere in the configuration.
  config.childEnv[`CONSOLE_${service.toUpperCase()}_METRICS_URL`] ||= server.url;
}
const format = createLineFormatter({
  names: [...instances.map((instance) => instance.name), 'supervisor'],
  colour: config.colour,
});
const report = (message: string) => say(format('supervisor', message));
const children: SupervisedChild[] = instances.map((instance) =>
  superviseChild({
    name: instance.name,
    entry: instance.spec.entry,
    nodeArgs: config.nodeArgs,
    env: config.childEnv,
    sharedPorts: instance.sharedPorts,
    niceness: instance.spec.niceness,
    output: (name, line) => say(format(name, line)),
    report,
  }),
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    report(`${signal}: stopping every process`);
    // The order service first (no new orders), the third parties last (in-flight calls finish).
    void Promise.all([...children].reverse().map((child) => child.stop(20_000))).then(async () => {
      await Promise.all([...instanceMetrics.values()].map((server) => server.close()));
      report('all stopped');
      process.exit(0);
    });
  });
}

const started = Date.now();
const ready = await Promise.all(
  layout.children.map((spec) => waitUntilReady(spec, started + config.readyTimeoutMs)),
);
// A signal may have come while waiting (the handler sets `stopping`).
if (!(stopping as boolean)) {
  const late = layout.children.filter((_, i) => !ready[i]).map((spec) => spec.name);
  if (late.length > 0)
    report(`not ready after ${config.readyTimeoutMs / 1000} s: ${late.join(', ')} (see their lines above)`);
  await printUrls(layout);
}

async function waitUntilReady(spec: ChildSpec, deadline: number): Promise<boolean> {
  // Instances sharing a port: the port answers once one listens; each must say it listens too.
  const own = children.filter((_, i) => instances[i]?.spec === spec);
  while (Date.now() < deadline && !stopping) {
    if (!own.every((child) => child.listening())) {
      await sleep(250);
      continue;
    }
    const answers = await Promise.all(
      spec.readinessUrls.map((url) =>
        fetch(url, { signal: AbortSignal.timeout(1_000) }).then(
          (response) => response.ok,
          () => false,
        ),
      ),
    );
    if (answers.every(Boolean)) {
      const count = own.length > 1 ? `, ${own.length} instances` : '';
      report(`${spec.name} ready (${((Date.now() - started) / 1000).toFixed(1)} s${count})`);
      return true;
    }
    await sleep(250);
  }
  return false;
}

async function requirePostgres(databaseUrl: string): Promise<void> {
  const server = new URL(databaseUrl);
  server.pathname = '/postgres';
  const client = new pg.Client({ connectionString: server.toString(), connectionTimeoutMillis: 3_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.end();
  } catch (error) {
    say(
      `PostgreSQL is not reachable at ${server.host} (${(error as Error).message}). Start it: ` +
        'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start (or set the *_DATABASE_URL variables)',
    );
    process.exit(1);
  }
}

async function requireRabbitmq(url: string): Promise<void> {
  const connection = new Connection({
    ...brokerAddresses(url),
    retryLow: 200,
    retryHigh: 1_000,
    connectionTimeout: 3_000,
  });
  connection.on('error', () => undefined);
  try {
    await connection.onConnect(4_000, true);
  } catch (error) {
    say(
      `RabbitMQ is not reachable at ${brokerAddresses(url).hosts.join(', ')} (${(error as Error).message}). Start it: ` +
        'rabbitmq-server -detached (or set RABBITMQ_URL)',
    );
    process.exit(1);
  } finally {
    await connection.close();
  }
}

async function printUrls(system: SystemLayout): Promise<void> {
  const management = await fetch(config.rabbitmqManagementUrl, { signal: AbortSignal.timeout(1_000) }).then(
    (response) => response.ok,
    () => false,
  );
  const rows: [string, string][] = [
    ['API', `${system.urls.order}/orders  (seed 002 clients: /api/orders)`],
    ['API docs', `${system.urls.order}/docs`],
    ['console', `${system.urls.console}  (operators: orders, sagas, dead letters)`],
    ['inventory', `${system.urls.inventory}/stock`],
    ['payment', `${system.urls.payment}/payments/{order_id}`],
    ['fulfilment', `${system.urls.fulfilment}/placements/{order_id}`],
    ['notification', `${system.urls.notification}/notifications?order_id={order_id}`],
    ...(describeReplicas(replicas) === ''
      ? []
      : [
          ['instances', `${describeReplicas(replicas)}: each service's instances share its port`] as [
            string,
            string,
          ],
        ]),
    [
      'metrics',
      instanceMetrics.size === 0
        ? 'GET /metrics on each of the five ports above'
        : 'GET /metrics on each of the five ports above (a shared port answers for one instance)',
    ],
    ...[...instanceMetrics].map(([service, server]): [string, string] => [
      '',
      `${service}, all instances added up: ${server.url}`,
    ]),
    [
      'simulators',
      `product ${system.simulatorUrls.product}, user ${system.simulatorUrls.user}, ` +
        `payment gateway ${system.simulatorUrls.payment}, fulfilment partner ${system.simulatorUrls.fulfilment}`,
    ],
    [
      'RabbitMQ UI',
      management
        ? `${config.rabbitmqManagementUrl} (guest/guest)`
        : 'not enabled here (rabbitmq-plugins enable rabbitmq_management)',
    ],
  ];
  say('');
  say(bold('Order platform is up.'));
  for (const [label, url] of rows) say(`  ${label.padEnd(13)} ${url}`);
  if (generatedSecret !== undefined) {
    const token = await developmentToken(generatedSecret, auth, 'operator', ['operator'], 12 * 3600);
    // The token in the fragment: browsers never send it, so it reaches no server's log (SPEC §4.10).
    say(`  ${'console login'.padEnd(13)} ${system.urls.console}/login#token=${token}`);
    say(`  ${'operator'.padEnd(13)} Authorization: Bearer ${token}`);
    say(
      `  ${''.padEnd(13)} (12 h; signed with the development secret in .dev/auth-secret: never use it in production;` +
        ' more: npm run token -- --sub <user id>)',
    );
  }
  say(
    '  Try it:       npm run demo   ·   dead letters: npm run dlq -- list <service>   ·   Ctrl-C stops all',
  );
  say('');
}
