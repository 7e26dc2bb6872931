/**
 * A reference measured on the machine in the same run as the benchmark, so that figures of two days can be
 * told apart from the machine's own drift: the same code measured 365 orders a second one evening and
 * ~280 the next morning (issue 21). Three figures, each the best of three tries:
 * - a fixed piece of JavaScript work (JSON and string handling, as the services do), in ms;
 * - the CPU one wake-up from a 20 ms sleep costs this process, in µs: on a virtual machine that is most
 *   of what a lightly loaded process spends per event (measured here: 50 µs for a C program, 200 µs for
 *   Node, against a few µs on bare metal);
 * - PostgreSQL commits a second on one connection, one-row inserts (its WAL flush is the floor of every
 *   transaction).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { withAdminDatabase, withDatabase } from './system-under-test.js';

/** What `measureMachineReference` found. */
export interface MachineReference {
  /** Time of a fixed JavaScript workload, in ms (lower is a faster machine). */
  jsWorkMs: number;
  /** CPU of one timer wake-up after a 20 ms sleep, in µs. */
  wakeUpCpuUs: number;
  /** One-row autocommitted inserts a second on one PostgreSQL connection. */
  postgresCommitsPerS: number;
}

/** Measures the machine (about five seconds); `postgresUrl` is the server the benchmark uses. */
export async function measureMachineReference(postgresUrl: string): Promise<MachineReference> {
  const best = async (times: number, measure: () => number | Promise<number>, better: 'min' | 'max') => {
    const values: number[] = [];
    for (let i = 0; i < times; i++) values.push(await measure());
    return better === 'min' ? Math.min(...values) : Math.max(...values);
  };
  return {
    jsWorkMs: await best(3, jsWork, 'min'),
    wakeUpCpuUs: await best(3, wakeUpCpu, 'min'),
    postgresCommitsPerS: await best(3, () => postgresCommits(postgresUrl), 'max'),
  };
}

/** A fixed workload shaped like a service's: build, serialise and parse an order-like object, 50 000 times. */
function jsWork(): number {
  const started = performance.now();
  let check = 0;
  for (let i = 0; i < 50_000; i++) {
    const order = {
      order_id: `order-${i}`,
      user_id: '7c11e1ce2741',
      items: [
        { product_code: 'classic-box', product_name: 'Classic Box', quantity: (i % 3) + 1, unit_price: 9.99 },
        { product_code: 'product-A', product_name: 'Product A', quantity: 1, unit_price: 50 },
      ],
      created_at: new Date(1_700_000_000_000 + i).toISOString(),
    };
    const parsed = JSON.parse(
      JSON.stringify({ id: String(i), type: 'order.created', payload: { order } }),
    ) as {
      payload: { order: { items: { quantity: number }[] } };
    };
    check += parsed.payload.order.items.reduce((sum, item) => sum + item.quantity, 0);
  }
  if (check === 0) throw new Error('unreachable');
  return performance.now() - started;
}

/** CPU this process spends per wake-up from a 20 ms timer, averaged over 50, in µs. */
async function wakeUpCpu(): Promise<number> {
  const wakeUps = 50;
  const before = process.cpuUsage();
  for (let i = 0; i < wakeUps; i++) await sleep(20);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / wakeUps;
}

/**
 * Commits a second over one second of one-row inserts, one after the other, into a table of a database
 * of its own (a temporary table writes no WAL, so its commits flush nothing).
 */
async function postgresCommits(postgresUrl: string): Promise<number> {
  const name = `bench_reference_${randomBytes(4).toString('hex')}`;
  await withAdminDatabase(postgresUrl, (admin) => admin.query(`CREATE DATABASE ${name}`));
  try {
    const url = new URL(postgresUrl);
    url.pathname = `/${name}`;
    return await withDatabase(url.toString(), async (client) => {
      await client.query('CREATE TABLE reference (n int)');
      const started = performance.now();
      let commits = 0;
      while (performance.now() - started < 1_000) {
        await client.query({ name: 'insert', text: 'INSERT INTO reference VALUES ($1)', values: [commits] });
        commits += 1;
      }
      return (commits * 1000) / (performance.now() - started);
    });
  } finally {
    await withAdminDatabase(postgresUrl, (admin) =>
      admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    );
  }
}
