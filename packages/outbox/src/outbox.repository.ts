import { sql, type Transaction } from 'kysely';
import type { EventEnvelope } from '@platform/contracts';
import { findMigrationsDir, readMigrations, type Migration } from '@platform/postgres';
import type pg from 'pg';

/** The outbox table's migrations, to apply before the service's own. */
export function outboxMigrations(): Promise<Migration[]> {
  return readMigrations(findMigrationsDir(import.meta.url), 'outbox');
}

/** Adds events to the outbox; call it inside the transaction that makes the change they announce. */
export async function appendToOutbox<Database>(
  trx: Transaction<Database>,
  events: readonly EventEnvelope[],
): Promise<void> {
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

/** Locks up to `limit` rows no other relay holds, oldest first. */
export async function claimUnpublished(client: pg.ClientBase, limit: number): Promise<OutboxRow[]> {
  const result = await client.query<OutboxRow>(
    `SELECT id, routing_key, correlation_id, message::text AS message
       FROM outbox ORDER BY position LIMIT $1
        FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return result.rows;
}

/**
 * Removes rows the broker confirmed. Deleting rather than flagging them costs PostgreSQL no new row
 * version and no index entries (about a tenth more intake throughput, measured by bench:intake), and
 * leaves no published rows to purge.
 */
export async function deletePublished(client: pg.ClientBase, ids: readonly string[]): Promise<void> {
  await client.query('DELETE FROM outbox WHERE id = ANY($1::uuid[])', [ids]);
}

/** Size of the backlog and age of its oldest row, in seconds (0 when empty). */
export async function backlogStats(client: pg.Pool): Promise<{ size: number; oldestAgeSeconds: number }> {
  const result = await client.query<{ size: number; age: number | null }>(
    `SELECT count(*)::int AS size, extract(epoch FROM now() - min(created_at))::float8 AS age FROM outbox`,
  );
  const row = result.rows[0];
  return { size: row?.size ?? 0, oldestAgeSeconds: row?.age ?? 0 };
}
