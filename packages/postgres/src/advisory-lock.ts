import { sql, type Transaction } from 'kysely';

/**
 * Serialises, until commit, every transaction that takes the lock for one of `keys` (correlation ids): events
 * about one saga instance that are applied by different transactions (two instances, a handler and a worker) go
 * one after the other, even before any row exists to lock. One statement for all the keys, taken in the
 * sequence of their hashes so that two transactions locking overlapping sets never deadlock on them.
 */
export async function lockKeys<Database>(trx: Transaction<Database>, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await sql`
    SELECT pg_advisory_xact_lock(h)
      FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest(${keys}::text[]) AS k ORDER BY 1) AS hashes`.execute(
    trx,
  );
}
