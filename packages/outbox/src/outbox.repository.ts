import { sql, type RawBuilder } from 'kysely';
import type { EventEnvelope } from '@platform/contracts';
import { findMigrationsDir, readMigrations, type Migration } from '@platform/postgres';
import type pg from 'pg';

/** Anything Kysely can run a query on: the database or, as it should be for writes, a transaction. */
export type SqlExecutor = Parameters<RawBuilder<unknown>['execute']>[0];

/** The outbox table's migrations, to apply before the service's own. */
export function outboxMigrations(): Promise<Migration[]> {
  return readMigrations(findMigrationsDir(import.meta.url), 'outbox');
}

/** Adds events to the outbox; call it inside the transaction that makes the change they announce. */
export async function appendToOutbox(trx: SqlExecutor, events: readonly EventEnvelope[]): Promise<void> {
  if (events.length === 0) return;
  await sql`
    INSERT INTO outbox (id, routing_key, correlation_id, message)
    SELECT * FROM unnest(
      ${events.map((e) => e.id)}::uuid[],
      ${events.map((e) => e.type)}::text[],
      ${events.map((e) => e.correlation_id)}::text[],
      ${events.map((e) => JSON.stringify(e))}::json[]
    )`.execute(trx);
}

/** An unpublished row as the relay reads it. */
export interface OutboxRow {
  id: string;
  routing_key: string;
  correlation_id: string;
  message: string;
}

/** Locks up to `limit` unpublished rows no other relay holds, oldest first. */
export async function claimUnpublished(client: pg.ClientBase, limit: number): Promise<OutboxRow[]> {
  const result = await client.query<OutboxRow>(
    `SELECT id, routing_key, correlation_id, message::text AS message
       FROM outbox WHERE published_at IS NULL
      ORDER BY position LIMIT $1
        FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return result.rows;
}

export async function markPublished(client: pg.ClientBase, ids: readonly string[]): Promise<void> {
  await client.query('UPDATE outbox SET published_at = now() WHERE id = ANY($1::uuid[])', [ids]);
}

const PURGE_CHUNK = 10_000;

/** Deletes rows published longer ago than the retention, in chunks so no statement runs long. */
export async function purgePublished(client: pg.ClientBase, retentionMs: number): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await client.query(
      `DELETE FROM outbox WHERE id IN (
         SELECT id FROM outbox WHERE published_at < now() - make_interval(secs => $1) LIMIT $2)`,
      [retentionMs / 1000, PURGE_CHUNK],
    );
    total += result.rowCount ?? 0;
    if ((result.rowCount ?? 0) < PURGE_CHUNK) return total;
  }
}

/** Size of the backlog and age of its oldest row, in seconds (0 when empty). */
export async function backlogStats(client: pg.Pool): Promise<{ size: number; oldestAgeSeconds: number }> {
  const result = await client.query<{ size: number; age: number | null }>(
    `SELECT count(*)::int AS size, extract(epoch FROM now() - min(created_at))::float8 AS age
       FROM outbox WHERE published_at IS NULL`,
  );
  const row = result.rows[0];
  return { size: row?.size ?? 0, oldestAgeSeconds: row?.age ?? 0 };
}
