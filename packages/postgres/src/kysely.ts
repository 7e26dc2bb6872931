import { Kysely, PostgresDialect, type ColumnType } from 'kysely';
import type { Pool } from './pool.js';

/** A Kysely instance over an existing pool; the pool stays owned (and ended) by the caller. */
export function createKysely<Database>(pool: Pool): Kysely<Database> {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** A json/jsonb column: written as JSON text (`JSON.stringify`), read back parsed by pg. */
export type JsonColumn<T> = ColumnType<T, string, string>;
