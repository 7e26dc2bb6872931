import { sql, type Kysely, type Transaction } from 'kysely';
import type { EventEnvelope } from '@platform/contracts';
import { findMigrationsDir, readMigrations, type Migration } from '@platform/postgres';

/** The inbox table's migrations, to apply beside the service's own. */
export function inboxMigrations(): Promise<Migration[]> {
  return readMigrations(findMigrationsDir(import.meta.url), 'inbox');
}

/**
 * Records, in the caller's transaction, that `consumer` handles these events, and returns the ids of those
 * it had not handled yet: the caller applies only those, in the same transaction, so a redelivered or
 * duplicated event has no second effect, and a rollback leaves neither. A copy being handled by another
 * transaction at the same moment makes this one wait on the key, then count as a duplicate. One statement
 * for the whole batch.
 */
export async function claimEvents<Database>(
  trx: Transaction<Database>,
  consumer: string,
  events: readonly Pick<EventEnvelope, 'id' | 'type'>[],
): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const result = await sql<{ event_id: string }>`
    INSERT INTO inbox (consumer, event_id, event_type)
    SELECT ${consumer}, id, type FROM unnest(${events.map((e) => e.id)}::text[], ${events.map((e) => e.type)}::text[])
      AS e(id, type)
    ON CONFLICT DO NOTHING
    RETURNING event_id`.execute(trx);
  return new Set(result.rows.map((row) => row.event_id));
}

/**
 * Deletes inbox rows older than `retentionMs`, at most `limit` per call; returns how many went. A
 * duplicate arrives within seconds of its original (a relay or consumer crash between confirm and
 * commit), so rows a week old protect nothing; without this the table grows by one row per event forever.
 */
export async function pruneInbox<Database>(
  db: Kysely<Database>,
  retentionMs: number,
  limit = 10_000,
): Promise<number> {
  const result = await sql`
    DELETE FROM inbox WHERE ctid IN (
      SELECT ctid FROM inbox WHERE handled_at < now() - make_interval(secs => ${retentionMs / 1000}) LIMIT ${limit})`.execute(
    db,
  );
  return Number(result.numAffectedRows ?? 0n);
}
