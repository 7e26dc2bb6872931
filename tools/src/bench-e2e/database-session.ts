/**
 * Short-lived PostgreSQL connections of the benchmark itself (never the system's): one per task, closed
 * when it is done, so that nothing the benchmark holds open outlives a step or keeps a database alive.
 */
import pg from 'pg';

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
