import { readFileSync } from 'node:fs';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestExchange, TEST_RETRY_DELAYS_MS, waitFor, type TestExchange } from '@platform/testing';

// npm start and npm run demo as an operator runs them: real processes, on ports, databases and an
// exchange of this test's own.
const root = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);
const suffix = randomBytes(4).toString('hex');
const SERVICES = ['order', 'inventory', 'payment', 'fulfilment', 'notification'] as const;
const DATABASES = {
  order: 'orders',
  inventory: 'inventory',
  payment: 'payments',
  fulfilment: 'fulfilment',
  notification: 'notifications',
};
const PORT_BASE = 18_000 + Math.floor(Math.random() * 400) * 10;

let exchange: TestExchange;
let env: NodeJS.ProcessEnv;
let supervisor: ChildProcess;
let output = '';

beforeAll(async () => {
  exchange = await createTestExchange('supervisor');
  env = {
    ...process.env,
    NO_COLOR: '1',
    LOG_LEVEL: 'warn',
    RABBITMQ_EXCHANGE: exchange.name,
    CONSUMER_RETRY_DELAYS_MS: TEST_RETRY_DELAYS_MS.join(','),
    ENRICHMENT_DEADLINE_MS: '3000',
    ENRICHMENT_CALL_TIMEOUT_MS: '800',
    PRODUCT_SERVICE_PORT: String(PORT_BASE + 1),
    USER_SERVICE_PORT: String(PORT_BASE + 2),
    PAYMENT_GATEWAY_PORT: String(PORT_BASE + 3),
    FULFILMENT_PARTNER_PORT: String(PORT_BASE + 4),
    ORDER_PRODUCT_SERVICE_URL: `http://127.0.0.1:${PORT_BASE + 1}`,
    ORDER_USER_SERVICE_URL: `http://127.0.0.1:${PORT_BASE + 2}`,
    PAYMENT_GATEWAY_URL: `http://127.0.0.1:${PORT_BASE + 3}`,
    FULFILMENT_PARTNER_URL: `http://127.0.0.1:${PORT_BASE + 4}`,
    RABBITMQ_MANAGEMENT_URL: 'http://127.0.0.1:1',
    CONSOLE_HOST: '127.0.0.1',
    CONSOLE_PORT: String(PORT_BASE + 10),
  };
  SERVICES.forEach((name, i) => {
    const prefix = name.toUpperCase();
    env[`${prefix}_HOST`] = '127.0.0.1';
    env[`${prefix}_PORT`] = String(PORT_BASE + 5 + i);
    env[`${prefix}_DATABASE_URL`] =
      `postgres://postgres@127.0.0.1:5432/test_sup_${DATABASES[name]}_${suffix}`;
  });
  supervisor = spawn(process.execPath, ['tools/dist/supervisor/main.js'], { cwd: root, env });
  supervisor.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  supervisor.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
}, 30_000);

afterAll(async () => {
  if (supervisor.exitCode === null) supervisor.kill('SIGKILL');
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  for (const name of SERVICES) {
    await admin.query(`DROP DATABASE IF EXISTS test_sup_${DATABASES[name]}_${suffix} WITH (FORCE)`);
  }
  await admin.end();
  await exchange.remove();
}, 30_000);

const childPids = async (pattern: string): Promise<number[]> => {
  const result = await run('pgrep', ['-P', String(supervisor.pid), '-f', pattern]).catch(() => ({
    stdout: '',
  }));
  return result.stdout.split('\n').filter(Boolean).map(Number);
};

describe('npm start and npm run demo', () => {
  it('brings the system up, prints the URLs, and the demo passes against it', async () => {
    await waitFor('the system up', () => output.includes('Order platform is up.'), 60_000);
    for (const name of ['simulators', ...SERVICES]) expect(output).toContain(`${name} ready`);
    expect(output).toContain(`API           http://127.0.0.1:${PORT_BASE + 5}/orders`);

    const demo = await run(process.execPath, ['tools/dist/demo/main.js'], {
      cwd: root,
      env,
      timeout: 90_000,
    });
    expect(demo.stdout).toMatch(/All \d+ rows as expected/);
    expect(demo.stdout).toContain('| seed 002 product-C (stock 0)');
  }, 150_000);

  it('runs the services behind the order API at a lower CPU priority than the API itself', async () => {
    // proc(5): the nice value is field 19 of /proc/<pid>/stat, counted after the command's parentheses.
    const niceOf = (pid: number) =>
      Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[16]);
    const [order] = await childPids('services/order/');
    const [payment] = await childPids('services/payment/');
    const [simulators] = await childPids('simulators/');
    expect(niceOf(order ?? 0)).toBe(0);
    expect(niceOf(payment ?? 0)).toBe(10);
    expect(niceOf(simulators ?? 0)).toBe(10);
  });

  it('reports a crashed child and restarts it', async () => {
    const [inventory] = await childPids('services/inventory/');
    expect(inventory).toBeDefined();
    process.kill(inventory ?? 0, 'SIGKILL');
    await waitFor('restart reported', () => output.includes('inventory exited (SIGKILL); restarting in 1 s'));
    await waitFor(
      'inventory back',
      () =>
        fetch(`http://127.0.0.1:${PORT_BASE + 6}/health/ready`).then(
          (r) => r.ok,
          () => false,
        ),
      20_000,
    );
  }, 30_000);

  it('stops every process on SIGTERM and exits 0', async () => {
    const children = await childPids('dist/src/main.js');
    // The simulators, the five services and the console.
    expect(children).toHaveLength(7);
    const exited = new Promise<number | null>((resolve) => supervisor.once('exit', (code) => resolve(code)));
    supervisor.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('all stopped');
    const alive = children.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    expect(alive).toEqual([]);
  }, 40_000);
});

describe('npm start without its infrastructure', () => {
  it.each([
    ['RabbitMQ', { RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:1' }, 'rabbitmq-server -detached'],
    ['PostgreSQL', { ORDER_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/orders' }, 'pg_ctlcluster'],
  ])(
    'says in one line that %s is missing and how to start it',
    async (what, overrides, hint) => {
      const result = await run(process.execPath, ['tools/dist/supervisor/main.js'], {
        cwd: root,
        env: { ...process.env, NO_COLOR: '1', ...overrides },
      }).then(
        () => ({ code: 0, stdout: '' }),
        (error: unknown) => error as { code: number; stdout: string },
      );
      expect(result.code).toBe(1);
      const lines = result.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`${what} is not reachable`);
      expect(lines[0]).toContain(hint);
    },
    20_000,
  );
});
