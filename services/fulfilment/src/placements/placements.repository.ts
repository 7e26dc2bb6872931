import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { captureTraceContext } from '@platform/observability';
import { correlationTrace } from '@platform/outbox';
import { leaseRows, releaseLeasedRows, type LeasedTable } from '@platform/postgres';
import type { FulfilmentDatabase, PlacementsTable } from '../database.js';
import type { LeasedPlacement, Placement, PlacementChange } from './placement.js';

type Db = Kysely<FulfilmentDatabase>;
type Trx = Transaction<FulfilmentDatabase>;

/** A placement as `GET /placements/{order_id}` shows it. */
type PlacementView = Pick<
  Selectable<PlacementsTable>,
  | 'order_id'
  | 'status'
  | 'attempts'
  | 'placement_id'
  | 'last_error'
  | 'deadline_at'
  | 'created_at'
  | 'updated_at'
>;

/** Locks the placements of these orders (in a fixed order) and returns them by order id. */
export async function lockPlacements(trx: Trx, orderIds: readonly string[]): Promise<Map<string, Placement>> {
  const rows = await trx
    .selectFrom('placements')
    .select(['order_id', 'status', 'placement_id', 'steps'])
    // ANY of one array parameter, not IN of one per id: the statement's text stays the same whatever the
    // batch size, so its prepared form is reused (see createPool).
    .where(sql<boolean>`order_id = ANY(${orderIds}::text[])`)
    .orderBy('order_id')
    .forUpdate()
    .execute();
  return new Map(rows.map((row) => [row.order_id, row]));
}

/**
 * Writes the placements' changes: new rows in one statement, changed ones in another. A new placement
 * leased by this instance holds its lease for `leaseMs`; it is due at once, its first attempt counted.
 */
export async function savePlacements(
  trx: Trx,
  changes: ReadonlyMap<string, PlacementChange>,
  leaseMs: number,
): Promise<void> {
  const entries = [...changes];
  const inserts = entries.flatMap(([orderId, change]) =>
    change.kind === 'insert' ? [{ orderId, change }] : [],
  );
  const updates = entries.flatMap(([orderId, change]) =>
    change.kind === 'update' ? [{ orderId, change }] : [],
  );
  // Both statements are sent at once (not one after the other's answer): they may ride with a COMMIT.
  const statements: Promise<unknown>[] = [];
  if (inserts.length > 0) {
    statements.push(
      sql`
      INSERT INTO placements (order_id, status, order_snapshot, attempts, deadline_at, lease_until,
                              trace_context, steps)
      SELECT c.order_id, c.status, c.order_snapshot, CASE WHEN c.lease THEN 1 ELSE 0 END, c.deadline_at,
             CASE WHEN c.lease THEN now() + ${leaseMs} * interval '1 millisecond' END, c.trace_context, c.steps
        FROM unnest(
          ${inserts.map((row) => row.orderId)}::text[],
          ${inserts.map((row) => row.change.status)}::text[],
          ${inserts.map((row) => JSON.stringify(row.change.order))}::jsonb[],
          ${inserts.map((row) => row.change.deadlineAt?.toISOString() ?? null)}::timestamptz[],
          ${inserts.map((row) => row.change.lease)}::boolean[],
          ${inserts.map((row) => {
            const carrier = captureTraceContext(correlationTrace(trx, row.orderId));
            return carrier && JSON.stringify(carrier);
          })}::json[],
          ${inserts.map((row) => JSON.stringify(row.change.steps))}::jsonb[])
          AS c(order_id, status, order_snapshot, deadline_at, lease, trace_context, steps)`.execute(trx),
    );
  }
  if (updates.length > 0) {
    statements.push(
      sql`
      UPDATE placements p SET
        status = c.status,
        placement_id = coalesce(c.placement_id, p.placement_id),
        last_error = c.last_error,
        next_attempt_at = CASE WHEN c.due_in_ms IS NULL THEN p.next_attempt_at
                               ELSE now() + c.due_in_ms * interval '1 millisecond' END,
        lease_until = CASE WHEN c.release THEN NULL ELSE p.lease_until END,
        updated_at = now()
      FROM unnest(
        ${updates.map((row) => row.orderId)}::text[],
        ${updates.map((row) => row.change.status)}::text[],
        ${updates.map((row) => row.change.placement_id)}::text[],
        ${updates.map((row) => row.change.last_error)}::text[],
        ${updates.map((row) => row.change.dueInMs ?? null)}::float8[],
        ${updates.map((row) => row.change.release)}::boolean[])
        AS c(order_id, status, placement_id, last_error, due_in_ms, release)
      WHERE p.order_id = c.order_id`.execute(trx),
    );
  }
  await Promise.all(statements);
}

/** A partner call to add to a placement's history. */
export interface PlacementAttemptRecord {
  orderId: string;
  outcome: string;
  error: string | null;
  placementId: string | null;
}

/** Appends partner calls to their placements' histories, in one statement. */
export async function appendAttempts(trx: Trx, attempts: readonly PlacementAttemptRecord[]): Promise<void> {
  if (attempts.length === 0) return;
  await sql`
    INSERT INTO placement_attempts (order_id, outcome, error, placement_id, at)
    SELECT *, clock_timestamp() FROM unnest(
      ${attempts.map((a) => a.orderId)}::text[], ${attempts.map((a) => a.outcome)}::text[],
      ${attempts.map((a) => a.error)}::text[], ${attempts.map((a) => a.placementId)}::text[])`.execute(trx);
}

/** A placement's partner calls, oldest first. */
export async function findAttempts(db: Db, orderId: string) {
  return db
    .selectFrom('placement_attempts')
    .select(['outcome', 'error', 'placement_id', 'at'])
    .where('order_id', '=', orderId)
    .orderBy('position')
    .execute();
}

/** Placements are leased to the placement worker through `lease_until`. */
const PLACEMENT_LEASES: LeasedTable = {
  table: 'placements',
  key: 'order_id',
  keyType: 'text',
  leaseColumn: 'lease_until',
};

/**
 * Leases up to `limit` placements that are due and that no live lease holds, the longest waiting first
 * (see `leaseRows`), and counts the attempt each is leased for.
 */
export async function leaseDuePlacements(db: Db, limit: number, leaseMs: number): Promise<LeasedPlacement[]> {
  return leaseRows<LeasedPlacement, FulfilmentDatabase>(db, PLACEMENT_LEASES, {
    due: sql`status = 'placing' AND next_attempt_at <= now()`,
    orderBy: sql`next_attempt_at`,
    limit,
    leaseMs,
    alsoSet: sql`attempts = attempts + 1`,
    returning: sql`order_id, order_snapshot AS "order", attempts, next_attempt_at, deadline_at, trace_context`,
  });
}

/** Gives leased placements back at once (a worker stopping), so another takes them without waiting. */
export async function releaseLeases(db: Db, orderIds: readonly string[]): Promise<void> {
  await releaseLeasedRows(db, PLACEMENT_LEASES, orderIds, sql`status = 'placing'`);
}

/** An order's placement as the query API shows it. */
export async function findPlacementView(db: Db, orderId: string): Promise<PlacementView | undefined> {
  return db
    .selectFrom('placements')
    .select([
      'order_id',
      'status',
      'attempts',
      'placement_id',
      'last_error',
      'deadline_at',
      'created_at',
      'updated_at',
    ])
    .where('order_id', '=', orderId)
    .executeTakeFirst();
}
