import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pool } from './pool.js';

/** One forward-only SQL migration; `name` is unique across everything a service applies. */
export interface Migration {
  name: string;
  sql: string;
}

// Any constant works; it only has to be the same for every instance of every service.
const MIGRATION_LOCK = 7_204_118_351;

/**
 * The `migrations` folder nearest above a module: the same answer whether the module runs from `src/`
 * (tests) or from `dist/src/` (the build).
 */
export function findMigrationsDir(moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    const candidate = join(dir, 'migrations');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no migrations folder above ${moduleUrl}`);
    dir = parent;
  }
}

/** Reads the `*.sql` files of a folder, sorted by name, naming each `<scope>/<file>`. */
export async function readMigrations(dir: string, scope: string): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.sql')).sort();
  return Promise.all(
    files.map(async (file) => ({ name: `${scope}/${file}`, sql: await readFile(join(dir, file), 'utf8') })),
  );
}

/**
 * Applies the migrations not applied yet, each in its own transaction, in the sequence given.
 * An advisory lock serialises instances that start at the same time.
 */
export async function migrate(pool: Pool, migrations: Migration[]): Promise<string[]> {
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    // Waiting for another instance's migrations, or running a long one, is not a stuck query.
    await client.query('SET statement_timeout = 0');
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set(
      (await client.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map(
        (row) => row.name,
      ),
    );
    for (const migration of migrations) {
      if (done.has(migration.name)) continue;
      try {
        await client.query('BEGIN');
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (name) VALUES ($1)', [migration.name]);
        await client.query('COMMIT');
        applied.push(migration.name);
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await client.query('RESET statement_timeout').catch(() => undefined);
    client.release();
  }
  return applied;
}
