/**
 * The databases and exchange bench:intake makes for itself (never the `orders` ones), each registered for
 * removal as it is made, so that a run that fails halfway leaves nothing behind.
 */
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Connection } from 'rabbitmq-client';
import { SUBSCRIPTIONS } from '@platform/contracts';
import { deleteTopology } from '@platform/messaging';
import { outboxMigrations } from '@platform/outbox';
import { createPool, migrate, readMigrations } from '@platform/postgres';
import { loadOrderConfig } from '../src/config.js';
import { POSTGRES_URL, RABBITMQ_URL } from './intake-settings.js';

/** Cleanup steps, run newest first; each runs even when an earlier one failed. */
export class Cleanup {
  private readonly steps: { name: string; run: () => Promise<unknown> }[] = [];

  add(name: string, run: () => Promise<unknown>): void {
    this.steps.push({ name, run });
  }

  async runAll(): Promise<void> {
    for (const step of [...this.steps].reverse()) {
      try {
        await step.run();
      } catch (error) {
        console.error(`cleanup: ${step.name} failed:`, error);
      }
    }
  }
}

function databaseUrl(name: string): string {
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function onServer(run: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl('postgres'), connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await run(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database and registers its removal; returns its URL. */
export async function createDatabase(name: string, cleanup: Cleanup): Promise<string> {
  await onServer((client) => client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  // FORCE: connections a failed run left open must not keep the database alive.
  cleanup.add(`drop database ${name}`, () =>
    onServer((client) => client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`)),
  );
  return databaseUrl(name);
}

/** The service declares its exchange and every service's queues on connecting; removed at the end. */
export async function deleteExchange(exchange: string): Promise<void> {
  const connection = new Connection({
    url: RABBITMQ_URL,
    retryLow: 100,
    connectionTimeout: 5_000,
    acquireTimeout: 5_000,
  });
  // Without a listener, a connection error (broker down) would be thrown as an unhandled 'error' event.
  connection.on('error', () => undefined);
  try {
    await deleteTopology(connection, exchange, SUBSCRIPTIONS, loadOrderConfig({}).consumer.retryDelaysMs);
    await connection.exchangeDelete({ exchange });
  } finally {
    await connection.close();
  }
}

/** Gives the raw baseline's database the service's schema (the service migrates its own on start). */
export async function migrateRawDatabase(url: string): Promise<void> {
  const pool = createPool({ connectionString: url, max: 1, applicationName: 'bench-migrate' });
  try {
    const migrationsDir = fileURLToPath(new URL('../../migrations', import.meta.url));
    await migrate(pool, [...(await outboxMigrations()), ...(await readMigrations(migrationsDir, 'order'))]);
  } finally {
    await pool.end();
  }
}
