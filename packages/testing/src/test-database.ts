import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A database of a test's own; `drop` removes it, closing whatever still connects to it. */
export interface TestDatabase {
  name: string;
  url: string;
  /** Runs SQL on the database directly, bypassing the service under test. */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<R[]>;
  drop(): Promise<void>;
}

const SERVER_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database named `test_<prefix>_<random>` on the local server. */
export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const name = `test_${prefix}_${randomBytes(5).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  let direct: pg.Pool | undefined;
  return {
    name,
    url: url.toString(),
    async query<R extends pg.QueryResultRow>(text: string, values?: unknown[]) {
      if (!direct) {
        direct = new pg.Pool({ connectionString: url.toString(), max: 2 });
        // drop() ends the pool, then FORCE terminates what is still closing: an expected error, not a crash.
        direct.on('error', () => undefined);
      }
      return (await direct.query<R>(text, values)).rows;
    },
    async drop() {
      await direct?.end();
      await admin((client) =>
        client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`),
      );
    },
  };
}
