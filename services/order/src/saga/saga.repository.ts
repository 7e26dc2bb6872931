import { sql, type Kysely, type Transaction } from 'kysely';
import type { OrderDatabase } from '../database.js';
import { isOrderId, type Order } from '../orders/order.js';
import { toOrder } from '../orders/orders.repository.js';
import type { SagaTransition } from './order-saga.js';

type Trx = Transaction<OrderDatabase>;

/**
 * Locks the orders' rows for the rest of the transaction (in a fixed order, so two transactions never
 * deadlock on them) and returns them by id; an unknown id is absent.
 */
export async function lockOrders(trx: Trx, ids: readonly string[]): Promise<Map<string, Order>> {
  // An id that is not a UUID names no order (and would fail the statement for every other one).
  const uuids = ids.filter(isOrderId);
  if (uuids.length === 0) return new Map();
  const rows = await trx
    .selectFrom('orders')
    .selectAll()
    // ANY of one array parameter: one statement text whatever the batch (its prepared form is reused).
    .where(sql<boolean>`id = ANY(${uuids}::uuid[])`)
    .orderBy('id')
    .forUpdate()
    .execute();
  return new Map(rows.map((row) => [row.id, toOrder(row)]));
}

/** Writes each order's transition (status, reason, new timeline entries stamped now), in one statement. */
export async function saveTransitions(
  trx: Trx,
  transitions: ReadonlyMap<string, SagaTransition>,
): Promise<void> {
  if (transitions.size === 0) return;
  const entries = [...transitions];
  await sql`
    UPDATE orders o SET
      status = c.status,
      reason = c.reason,
      updated_at = now(),
      timeline = o.timeline || (SELECT jsonb_agg(e || jsonb_build_object('at', now())) FROM jsonb_array_elements(c.entries) AS e)
    FROM unnest(
      ${entries.map(([id]) => id)}::uuid[],
      ${entries.map(([, t]) => t.status)}::text[],
      ${entries.map(([, t]) => t.reason)}::text[],
      ${entries.map(([, t]) => JSON.stringify(t.entries))}::jsonb[]) AS c(id, status, reason, entries)
    WHERE o.id = c.id`.execute(trx);
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

/** How long until the oldest PENDING order reaches the deadline, in ms (undefined when none is PENDING). */
export async function msUntilNextDeadline(
  db: Kysely<OrderDatabase>,
  deadlineMs: number,
): Promise<number | undefined> {
  const result = await sql<{ ms: number | null }>`
    SELECT extract(epoch FROM min(created_at) + ${deadlineMs} * interval '1 millisecond' - now())::float8 * 1000 AS ms
      FROM orders WHERE status = 'PENDING'`.execute(db);
  const ms = result.rows[0]?.ms;
  return ms === null || ms === undefined ? undefined : Math.max(0, ms);
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
