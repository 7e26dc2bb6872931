import { sql, type Kysely, type Selectable, type Transaction, type UpdateObject } from 'kysely';
import type { OrderSnapshot } from '@platform/contracts';
import type { FulfilmentDatabase, PlacementsTable, PlacementStatus } from '../database.js';
import type { LeasedPlacement } from './placement.js';

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

/** The status of an order's placement, or undefined when this service never saw the order. */
export async function findPlacementStatus(trx: Trx, orderId: string): Promise<PlacementStatus | undefined> {
  const row = await trx
    .selectFrom('placements')
    .select('status')
    .where('order_id', '=', orderId)
    .executeTakeFirst();
  return row?.status;
}

/** A new placement, due at once, given up `deadlineMs` after now. */
export async function insertPlacing(trx: Trx, order: OrderSnapshot, deadlineMs: number): Promise<void> {
  await trx
    .insertInto('placements')
    .values({
      order_id: order.order_id,
      status: 'placing',
      order_snapshot: JSON.stringify(order),
      deadline_at: sql<Date>`now() + make_interval(secs => ${deadlineMs / 1000})`,
    })
    .execute();
}

/** The mark a cancellation leaves when it comes before the payment: nothing is ever placed for it. */
export async function insertCancelled(trx: Trx, order: OrderSnapshot): Promise<void> {
  await trx
    .insertInto('placements')
    .values({ order_id: order.order_id, status: 'cancelled', order_snapshot: JSON.stringify(order) })
    .execute();
}

/** Stops a placement in progress; false when it was not in progress. */
export async function cancelPlacing(trx: Trx, orderId: string): Promise<boolean> {
  const result = await trx
    .updateTable('placements')
    .set({ status: 'cancelled', lease_until: null, updated_at: sql<Date>`now()` })
    .where('order_id', '=', orderId)
    .where('status', '=', 'placing')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Leases up to `limit` placements that are due and that no live lease holds, the longest waiting first.
 * The lease, not a held transaction, marks them taken: no connection waits on the partner.
 */
export async function leaseDuePlacements(db: Db, limit: number, leaseMs: number): Promise<LeasedPlacement[]> {
  const result = await sql<LeasedPlacement>`
    UPDATE placements SET lease_until = now() + make_interval(secs => ${leaseMs / 1000})
     WHERE order_id IN (
       SELECT order_id FROM placements
        WHERE status = 'placing' AND next_attempt_at <= now()
          AND (lease_until IS NULL OR lease_until < now())
        ORDER BY next_attempt_at
        LIMIT ${limit}
          FOR UPDATE SKIP LOCKED)
    RETURNING order_id, order_snapshot AS "order", next_attempt_at, deadline_at`.execute(db);
  return result.rows;
}

/** Adds one to the placement's attempts and returns the new count. */
export async function countAttempt(db: Db, orderId: string): Promise<number> {
  const row = await db
    .updateTable('placements')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('order_id', '=', orderId)
    .returning('attempts')
    .executeTakeFirstOrThrow();
  return row.attempts;
}

/** Gives leased placements back at once (a worker stopping), so another takes them without waiting. */
export async function releaseLeases(db: Db, orderIds: readonly string[]): Promise<void> {
  if (orderIds.length === 0) return;
  await db
    .updateTable('placements')
    .set({ lease_until: null })
    .where('order_id', 'in', orderIds)
    .where('status', '=', 'placing')
    .execute();
}

/**
 * Applies a worker's result to a placement still in progress (and drops its lease); false when it is no
 * longer `placing` (cancelled meanwhile): the guard that makes a late result change nothing.
 */
async function updateIfPlacing(
  trx: Trx,
  orderId: string,
  changes: UpdateObject<FulfilmentDatabase, 'placements'>,
): Promise<boolean> {
  const result = await trx
    .updateTable('placements')
    .set({ ...changes, lease_until: null, updated_at: sql<Date>`now()` })
    .where('order_id', '=', orderId)
    .where('status', '=', 'placing')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Records the partner's acceptance; false when the placement was no longer in progress. */
export const markPlaced = (trx: Trx, orderId: string, placementId: string): Promise<boolean> =>
  updateIfPlacing(trx, orderId, { status: 'placed', placement_id: placementId, last_error: null });

/** Keeps the partner's reference on a placement cancelled while its call was in flight. */
export async function recordLatePlacement(trx: Trx, orderId: string, placementId: string): Promise<boolean> {
  const result = await trx
    .updateTable('placements')
    .set({ placement_id: placementId, updated_at: sql<Date>`now()` })
    .where('order_id', '=', orderId)
    .where('status', '=', 'cancelled')
    .where('placement_id', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Makes the placement due again in `delayMs`; false when no longer in progress. */
export const markRetryDue = (trx: Trx, orderId: string, error: string, delayMs: number): Promise<boolean> =>
  updateIfPlacing(trx, orderId, {
    last_error: error,
    next_attempt_at: sql<Date>`now() + make_interval(secs => ${delayMs / 1000})`,
  });

/** Gives the placement up; false when no longer in progress. */
export const markFailed = (trx: Trx, orderId: string, error: string): Promise<boolean> =>
  updateIfPlacing(trx, orderId, { status: 'failed', last_error: error });

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
