import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestExchange,
  TEST_RABBITMQ_URL,
  TEST_RETRY_DELAYS_MS,
  operatorToken,
  TEST_AUTH_SECRET,
  waitFor,
  type TestExchange,
} from '@platform/testing';
import { judge } from '../src/chaos/checks.js';
import { metricValue } from '../src/chaos/system-probes.js';
import { isIdle, observeIdleSystem, readStock, type ObservedSystem } from '../src/chaos/observe-system.js';
import { SCARCE_PRODUCTS, SEED_ORDER_BODIES, startOpenLoopLoad } from '../src/chaos/open-loop-load.js';
import {
  DATABASE_NAMES,
  freeSystemPorts,
  isolatedSystemEnv,
  localUrl,
  SERVICE_NAMES,
  type ServiceName,
  type SystemPorts,
} from '../src/isolated-system.js';

// `npm start -- --replicas 2` under load: two instances of every service sharing its port, the seed
// simulators (slow and failing third parties), one instance of each service killed with SIGKILL while
// orders come in. Then SPEC §4 through the public APIs (the chaos run's checks), and the logs of every
// instance: each took part in the work.
const root = new URL('../../', import.meta.url).pathname;
const suffix = randomBytes(4).toString('hex');
const databaseUrl = (service: ServiceName) =>
  `postgres://postgres@127.0.0.1:5432/test_replicas_${suffix}_${DATABASE_NAMES[service]}`;
const RATE = 15;
const LOAD_S = 20;
const KILL_AFTER_S = 8;

let exchange: TestExchange;
let ports: SystemPorts;
let supervisor: ChildProcess;
let output = '';

beforeAll(async () => {
  exchange = await createTestExchange('replicas');
  ports = await freeSystemPorts();
  const env = {
    ...isolatedSystemEnv({
      base: process.env,
      ports,
      databaseUrl,
      rabbitmqUrl: TEST_RABBITMQ_URL,
      exchange: exchange.name,
      simulatorsProfile: 'seed',
    }),
    // Every handled event, leased step and request is a debug line: how the test sees who did what.
    LOG_LEVEL: 'debug',
    // Log lines are matched as the supervisor shows them: no trace ids appended, whatever the shell says.
    OTEL_EXPORTER_OTLP_ENDPOINT: '',
    CONSUMER_RETRY_DELAYS_MS: TEST_RETRY_DELAYS_MS.join(','),
    RABBITMQ_MANAGEMENT_URL: 'http://127.0.0.1:1',
    AUTH_JWT_SECRET: TEST_AUTH_SECRET,
  };
  supervisor = spawn(process.execPath, ['tools/dist/supervisor/main.js', '--replicas', '2'], {
    cwd: root,
    env,
  });
  supervisor.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  supervisor.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor('the system up', () => output.includes('Order platform is up.'), 90_000);
  // Plenty of stock but for the scarce products, as in the chaos run.
  const inventory = new pg.Client({ connectionString: databaseUrl('inventory') });
  await inventory.connect();
  await inventory.query('UPDATE stock SET available = 100000 WHERE NOT (product_code = ANY($1))', [
    SCARCE_PRODUCTS,
  ]);
  await inventory.end();
}, 120_000);

afterAll(async () => {
  const running = () => supervisor.exitCode === null && supervisor.signalCode === null;
  if (running()) {
    const exited = new Promise((resolve) => supervisor.once('exit', resolve));
    supervisor.kill('SIGTERM');
    await Promise.race([exited, sleep(30_000)]);
    if (running()) supervisor.kill('SIGKILL');
  }
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  for (const service of SERVICE_NAMES) {
    const name = new URL(databaseUrl(service)).pathname.slice(1);
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  }
  await admin.end();
  await exchange.remove();
}, 60_000);

/** `POST /orders` answered, by the supervisor's all-instances /metrics of the order service. */
async function placementsCounted(): Promise<{ counted: number; instances: string | null }> {
  const url = /order, all instances added up: (\S+)/.exec(output)?.[1];
  expect(url).toBeDefined();
  const response = await fetch(url ?? '');
  const counted = metricValue(await response.text(), 'http_request_duration_seconds_count', {
    labelFilter: 'method="POST",route="/orders"',
  });
  return { counted, instances: response.headers.get('x-instances') };
}

/** Lines of one instance (`payment#2`) whose message matches `message`. */
const linesOf = (instance: string, message: RegExp): number =>
  output
    .split('\n')
    .filter((line) => line.startsWith(`${instance} `) && message.test(line.slice(line.indexOf('│')))).length;

describe('npm start -- --replicas 2', () => {
  it('starts two instances of every service, one port each', () => {
    for (const service of SERVICE_NAMES) {
      for (const instance of [1, 2])
        expect(output).toMatch(new RegExp(`${service}#${instance} started \\(pid \\d+\\)`));
    }
    expect(output).toContain(
      'instances     order ×2, inventory ×2, payment ×2, fulfilment ×2, notification ×2',
    );
  });

  it('keeps every SPEC §4 guarantee with one instance of each service killed under load, and shares the work', async () => {
    const system: ObservedSystem = {
      serviceUrls: Object.fromEntries(
        SERVICE_NAMES.map((service) => [service, localUrl(ports[service])]),
      ) as Record<ServiceName, string>,
      gatewayUrl: localUrl(ports.gateway),
      rabbitmqUrl: TEST_RABBITMQ_URL,
      exchange: exchange.name,
      operatorToken: await operatorToken(),
    };
    const stockBefore = await readStock(system);
    const load = startOpenLoopLoad({
      orderUrl: system.serviceUrls.order,
      rate: RATE,
      bodies: SEED_ORDER_BODIES,
      connections: 16,
      connectionPerRequest: true,
    });
    await sleep(KILL_AFTER_S * 1000);
    const beforeKill = await placementsCounted();
    expect(beforeKill.counted).toBeGreaterThan(0);
    for (const service of SERVICE_NAMES) {
      const pid = new RegExp(`${service}#1 started \\(pid (\\d+)\\)`).exec(output)?.[1];
      expect(pid).toBeDefined();
      process.kill(Number(pid), 'SIGKILL');
    }
    await sleep((LOAD_S - KILL_AFTER_S) * 1000);
    await load.stop();
    for (const service of SERVICE_NAMES) {
      expect(output).toContain(`${service}#1 exited (SIGKILL); restarting in 1 s`);
    }
    // Polled every half second: the reads go through the system under test.
    const slowly =
      <T>(check: () => Promise<T>) =>
      async () => {
        await sleep(500);
        return check();
      };
    await waitFor(
      'every order final and nothing reserved',
      slowly(() => isIdle(system)),
      150_000,
    );

    const observations = await observeIdleSystem(system);
    const checks = judge({
      acceptedIds: load.accepted.map((order) => order.id),
      stockBefore,
      faults: [],
      ...observations,
    });
    expect(checks.filter((check) => !check.ok)).toEqual([]);
    expect(load.accepted.length).toBeGreaterThan(RATE * LOAD_S * 0.8);
    expect(observations.orders.filter((order) => order.status === 'COMPLETED').length).toBeGreaterThan(0);

    // Each instance handled events and did leased work (calls to the third parties), and both order
    // instances took requests on the one port.
    const leasedWork: Partial<Record<ServiceName, RegExp>> = {
      order: /order enriched/,
      payment: /payment step done/,
      fulfilment: /placement attempted/,
    };
    const work: Record<string, Record<string, number>> = {};
    for (const service of SERVICE_NAMES) {
      for (const instance of [`${service}#1`, `${service}#2`]) {
        work[instance] = {
          events: linesOf(instance, / handled/),
          ...(leasedWork[service] && { leased: linesOf(instance, leasedWork[service]) }),
          ...(service === 'order' && { requests: linesOf(instance, /request completed.*url=\/orders/) }),
        };
      }
    }
    for (const [instance, counts] of Object.entries(work)) {
      for (const [kind, count] of Object.entries(counts)) {
        expect(count, `${instance} ${kind} (all: ${JSON.stringify(work)})`).toBeGreaterThan(0);
      }
    }

    // The supervisor's all-instances /metrics of the order service: at least the requests both running
    // instances logged (order#1's since its restart), at most all they logged (order#1's counts from
    // before its death stay in the sum as of the last scrape before it), and it never went down across
    // the kill. Every response is both logged and counted by an onResponse hook.
    const after = await placementsCounted();
    expect(after.instances).toBe('2/2');
    const restart = output.lastIndexOf('order#1 started (pid');
    const placements = (text: string, instance: string) =>
      text
        .split('\n')
        .filter(
          (line) => line.startsWith(`${instance} `) && /request completed.* url=\/orders(\s|$)/.test(line),
        ).length;
    const running = placements(output, 'order#2') + placements(output.slice(restart), 'order#1');
    expect(after.counted).toBeGreaterThanOrEqual(running);
    expect(after.counted).toBeLessThanOrEqual(placements(output, 'order#2') + placements(output, 'order#1'));
    expect(after.counted).toBeGreaterThan(placements(output, 'order#2'));
    expect(after.counted).toBeGreaterThanOrEqual(beforeKill.counted);
  }, 240_000);
});
