import { sql, type Transaction } from 'kysely';
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@platform/testing';
import {
  commitWith,
  createPool,
  createTransactionRunner,
  StatementAfterCommitError,
  type Pool,
  type Transact,
} from '../src/index.js';

interface Database {
  accounts: { id: string; balance: number };
}
type Trx = Transaction<Database>;

let database: TestDatabase;
let pool: Pool;
let transact: Transact<Database>;
/** Socket writes of the pool's one client, and PostgreSQL's messages answered (ReadyForQuery). */
const wire = { writes: 0 };

beforeAll(async () => {
  database = await createTestDatabase('pipeline');
  await database.query(
    'CREATE TABLE accounts (id text PRIMARY KEY, balance int NOT NULL CHECK (balance >= 0))',
  );
  // One client, so every transaction of a test goes over the socket counted here.
  pool = createPool({ connectionString: database.url, max: 1, applicationName: 'pipeline-test' });
  pool.on('connect', (client: pg.PoolClient) => {
    const stream = (client as unknown as { connection: { stream: Record<string, unknown> } }).connection
      .stream;
    for (const method of ['_write', '_writev'] as const) {
      const original = stream[method] as (...args: unknown[]) => unknown;
      stream[method] = function (this: unknown, ...args: unknown[]) {
        wire.writes += 1;
        return original.apply(this, args);
      };
    }
  });
  transact = createTransactionRunner<Database>(pool);
});
afterAll(async () => {
  await pool.end();
  await database.drop();
});
beforeEach(async () => {
  await database.query('TRUNCATE accounts');
  await database.query(`INSERT INTO accounts VALUES ('a', 100), ('b', 0)`);
});

const balanceOf = async (trx: Trx, id: string) =>
  (
    await trx
      .selectFrom('accounts')
      .select('balance')
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirstOrThrow()
  ).balance;
const setBalance = (trx: Trx, id: string, balance: number) =>
  trx.updateTable('accounts').set({ balance }).where('id', '=', id).execute();
const balances = async () =>
  Object.fromEntries(
    (
      await database.query<{ id: string; balance: number }>('SELECT id, balance FROM accounts ORDER BY id')
    ).map((row) => [row.id, row.balance]),
  );

/** Moves `amount` from a to b: reads both (locked), decides, writes both with the COMMIT. */
const transfer = (amount: number) =>
  transact(async (trx) => {
    const [a, b] = await Promise.all([balanceOf(trx, 'a'), balanceOf(trx, 'b')]);
    commitWith(trx, setBalance(trx, 'a', a - amount), setBalance(trx, 'b', b + amount));
    return { a: a - amount, b: b + amount };
  });

describe('pipelined transactions', () => {
  it('commits reads and writes in two round trips: BEGIN with the reads, the writes with COMMIT', async () => {
    await transfer(1); // the pool's client connects and prepares its statements
    wire.writes = 0;
    await expect(transfer(30)).resolves.toEqual({ a: 69, b: 31 });
    expect(wire.writes).toBe(2);
    expect(await balances()).toEqual({ a: 69, b: 31 });
  });

  it('commits nothing when one of the writes sent with COMMIT fails, and says which failed', async () => {
    // a would go below zero: the CHECK refuses the first write, PostgreSQL skips the second and answers
    // COMMIT with ROLLBACK.
    await expect(transfer(150)).rejects.toMatchObject({ code: '23514' });
    expect(await balances()).toEqual({ a: 100, b: 0 });
    // The connection is fine afterwards.
    await expect(transfer(10)).resolves.toEqual({ a: 90, b: 10 });
  });

  it('commits nothing when a read fails, and rejects with its error', async () => {
    await expect(
      transact(async (trx) => {
        commitWith(trx, setBalance(trx, 'a', 1));
        await sql`SELECT 1 / 0`.execute(trx);
      }),
    ).rejects.toMatchObject({ code: '22012' });
    expect(await balances()).toEqual({ a: 100, b: 0 });
  });

  it('rolls back when the work throws', async () => {
    await expect(
      transact(async (trx) => {
        await setBalance(trx, 'a', 5);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await balances()).toEqual({ a: 100, b: 0 });
  });

  it('refuses a statement issued after COMMIT, and fails the transaction with it', async () => {
    // A write that awaits one statement before sending the next breaks commitWith's rule: its second
    // statement comes after COMMIT and is not sent.
    const twoRoundTrips = async (trx: Trx) => {
      await setBalance(trx, 'a', 1);
      await setBalance(trx, 'b', 99);
    };
    await expect(transact(async (trx) => commitWith(trx, twoRoundTrips(trx)))).rejects.toBeInstanceOf(
      StatementAfterCommitError,
    );
    expect((await balances()).b).toBe(0);
  });

  it('keeps concurrent transactions apart: each waits for the rows another locked', async () => {
    const wide = createPool({ connectionString: database.url, max: 3, applicationName: 'pipeline-test' });
    try {
      const run = createTransactionRunner<Database>(wide);
      const move = (amount: number) =>
        run(async (trx) => {
          const [a, b] = await Promise.all([balanceOf(trx, 'a'), balanceOf(trx, 'b')]);
          commitWith(trx, setBalance(trx, 'a', a - amount), setBalance(trx, 'b', b + amount));
          return a - amount;
        });
      const after = await Promise.all([move(10), move(20), move(30)]);
      // Each saw what the one before it committed: no update was lost, and the last left 40.
      expect(new Set(after).size).toBe(3);
      expect(Math.min(...after)).toBe(40);
      expect(await balances()).toEqual({ a: 40, b: 60 });
    } finally {
      await wide.end();
    }
  });
});
