import { sql, type Transaction } from 'kysely';

/**
 * Serialises, until commit, every transaction that takes the lock for `key` (an order id): events about
 * one order that arrive together are applied one after the other, even before any row exists to lock.
 */
export async function lockKey<Database>(trx: Transaction<Database>, key: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(trx);
}
