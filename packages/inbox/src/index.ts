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
