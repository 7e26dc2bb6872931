import { sql, type Kysely, type Transaction } from 'kysely';
import type { OrderDatabase } from '../database.js';
import type { Order, OrderStatus } from '../orders/order.js';
import { toOrder } from '../orders/orders.repository.js';

type Trx = Transaction<OrderDatabase>;

/**
 * Locks an order's row for the rest of the transaction and returns its status (undefined when unknown):
 * an event's decision and its write then see the same state, whatever the sweep or the API do meanwhile.
 */
export async function lockOrderStatus(trx: Trx, id: string): Promise<OrderStatus | undefined> {
  const row = await trx
    .selectFrom('orders')
    .select('status')
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  return row?.status;
}

/** Appends a step to an order's timeline; false when there is no such order. */
export async function appendTimelineStep(
  trx: Trx,
  id: string,
  step: string,
  details: { reason?: string; afterFinal?: boolean } = {},
): Promise<boolean> {
  const entry = {
    step,
    ...(details.reason === undefined ? {} : { reason: details.reason }),
    ...(details.afterFinal ? { after_final: true } : {}),
  };
  const result = await trx
    .updateTable('orders')
    .set({
      updated_at: sql<Date>`now()`,
      timeline: sql<string>`timeline || jsonb_build_array(${JSON.stringify(entry)}::jsonb || jsonb_build_object('at', now()))`,
    })
    .where('id', '=', id)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Moves a PENDING order to COMPLETED; undefined when it is missing or already final. */
export async function completePendingOrder(trx: Trx, id: string): Promise<Order | undefined> {
  const row = await trx
    .updateTable('orders')
    .set({
      status: 'COMPLETED',
      updated_at: sql<Date>`now()`,
      timeline: sql<string>`timeline || jsonb_build_array(jsonb_build_object('step', 'completed', 'at', now()))`,
    })
    .where('id', '=', id)
    .where('status', '=', 'PENDING')
    .returningAll()
    .executeTakeFirst();
  return row && toOrder(row);
}

/**
 * Cancels up to `limit` orders still PENDING `deadlineMs` after they were placed, oldest first, skipping
 * rows another transaction holds (an event being applied to that order decides first).
 */
export async function cancelOverdueOrders(trx: Trx, deadlineMs: number, limit: number): Promise<Order[]> {
  const result = await sql<Parameters<typeof toOrder>[0]>`
    UPDATE orders SET
      status = 'CANCELLED',
      reason = 'timeout',
      updated_at = now(),
      timeline = timeline || jsonb_build_array(
        jsonb_build_object('step', 'cancelled', 'at', now(), 'reason', 'timeout'))
    WHERE id IN (
      SELECT id FROM orders
       WHERE status = 'PENDING' AND created_at < now() - make_interval(secs => ${deadlineMs / 1000})
       ORDER BY created_at
       LIMIT ${limit}
         FOR UPDATE SKIP LOCKED)
    RETURNING *`.execute(trx);
  return result.rows.map(toOrder);
}

/** How many orders are still PENDING and how old the oldest is, in seconds (0 when none). */
export async function inFlightStats(
  db: Kysely<OrderDatabase>,
): Promise<{ count: number; oldestAgeSeconds: number }> {
  const result = await sql<{ count: number; age: number | null }>`
    SELECT count(*)::int AS count, extract(epoch FROM now() - min(created_at))::float8 AS age
      FROM orders WHERE status = 'PENDING'`.execute(db);
  const row = result.rows[0];
  return { count: row?.count ?? 0, oldestAgeSeconds: row?.age ?? 0 };
}
