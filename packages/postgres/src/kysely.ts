import { Kysely, PostgresDialect } from 'kysely';
import type { Pool } from './pool.js';

/** A Kysely instance over an existing pool; the pool stays owned (and ended) by the caller. */
export function createKysely<Database>(pool: Pool): Kysely<Database> {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
