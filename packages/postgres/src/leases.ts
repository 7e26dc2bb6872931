import { sql, type Kysely, type RawBuilder } from 'kysely';

/** A table whose rows are work leased to workers: its key column and the column holding the lease's end. */
export interface LeasedTable {
  table: string;
  key: string;
  /** The key column's type, for the array of keys a release takes. */
  keyType: 'uuid' | 'text';
  /** A `timestamptz` column: null or past when no live lease holds the row. */
  leaseColumn: string;
}

/**
 * Leases up to `limit` rows of `table` that are due and that no live lease holds, `orderBy` first, for
 * `leaseMs`: one statement, `UPDATE … WHERE key IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING …`. The
 * lease, not a held transaction, marks the rows taken: the work (a third-party call) may take seconds and
 * no connection waits on it, a worker that dies only delays its rows until their lease ends, and workers in
 * several processes never take the same row (SKIP LOCKED skips the rows another one is leasing).
 * `due` is the row's own condition (`status = 'placing' AND next_attempt_at <= now()`), `alsoSet` more
 * assignments made with the lease (an attempt counted), `returning` the columns to give back.
 */
export async function leaseRows<Row, Database>(
  db: Kysely<Database>,
  leased: LeasedTable,
  options: {
    due: RawBuilder<unknown>;
    orderBy: RawBuilder<unknown>;
    limit: number;
    leaseMs: number;
    alsoSet?: RawBuilder<unknown>;
    returning: RawBuilder<unknown>;
  },
): Promise<Row[]> {
  const table = sql.table(leased.table);
  const key = sql.ref(leased.key);
  const lease = sql.ref(leased.leaseColumn);
  const result = await sql<Row>`
    UPDATE ${table} SET ${lease} = now() + ${options.leaseMs} * interval '1 millisecond'${
      options.alsoSet ? sql`, ${options.alsoSet}` : sql``
    }
     WHERE ${key} IN (
       SELECT ${key} FROM ${table}
        WHERE (${options.due}) AND (${lease} IS NULL OR ${lease} < now())
        ORDER BY ${options.orderBy}
        LIMIT ${options.limit}
          FOR UPDATE SKIP LOCKED)
    RETURNING ${options.returning}`.execute(db);
  return result.rows;
}

/**
 * Gives leased rows back at once (a worker stopping), so that another worker takes them without waiting
 * for their lease to end; `onlyWhere` limits it to rows still in that state.
 */
export async function releaseLeasedRows<Database>(
  db: Kysely<Database>,
  leased: LeasedTable,
  keys: readonly string[],
  onlyWhere?: RawBuilder<unknown>,
): Promise<void> {
  if (keys.length === 0) return;
  await sql`
    UPDATE ${sql.table(leased.table)} SET ${sql.ref(leased.leaseColumn)} = NULL
     WHERE ${sql.ref(leased.key)} = ANY(${keys}::${sql.raw(leased.keyType)}[])${onlyWhere ? sql` AND (${onlyWhere})` : sql``}`.execute(
    db,
  );
}
