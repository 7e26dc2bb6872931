import { sql, type Kysely, type Transaction } from 'kysely';
import type { EventEnvelope } from '@platform/contracts';
import { findMigrationsDir, readMigrations, type Migration } from '@platform/postgres';

/** The inbox table's migrations, to apply beside the service's own. */
export function inboxMigrations(): Promise<Migration[]> {
  return readMigrations(findMigrationsDir(import.meta.url), 'inbox');
}

/** How handling an event through the inbox ended. */
export type InboxOutcome<T> = { duplicate: true } | { duplicate: false; result: T };

/**
 * Runs `effect` in one transaction with the inbox row of (`consumer`, event id), or not at all when that
 * row exists: a redelivered or duplicated event has no second effect. Two copies delivered at once are
 * serialised by the primary key: the second waits for the first to commit, then sees the duplicate.
 */
export async function handleOnce<Database, T>(
  db: Kysely<Database>,
  consumer: string,
  event: EventEnvelope,
  effect: (trx: Transaction<Database>) => Promise<T>,
): Promise<InboxOutcome<T>> {
  return db.transaction().execute(async (trx) => {
    const claimed = await sql`
      INSERT INTO inbox (consumer, event_id, event_type) VALUES (${consumer}, ${event.id}, ${event.type})
      ON CONFLICT DO NOTHING`.execute(trx);
    if (claimed.numAffectedRows === 0n) return { duplicate: true };
    return { duplicate: false, result: await effect(trx) };
  });
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
