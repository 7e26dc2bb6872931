import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { OrderDatabase, OrdersTable } from '../database.js';
import type { Order } from '../orders/order.js';
import { toOrder } from '../orders/orders.repository.js';

type Trx = Transaction<OrderDatabase>;

/**
 * Locks up to `limit` orders still PENDING `deadlineMs` after they were placed, oldest first, skipping
 * rows another transaction holds (an event being applied to that order decides first).
 */
export async function lockOverdueOrders(trx: Trx, deadlineMs: number, limit: number): Promise<Order[]> {
  const result = await sql<Selectable<OrdersTable>>`
    SELECT * FROM orders
     WHERE status = 'PENDING' AND created_at < now() - make_interval(secs => ${deadlineMs / 1000})
     ORDER BY created_at
     LIMIT ${limit}
       FOR UPDATE SKIP LOCKED`.execute(trx);
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

/**
 * How many orders are still PENDING, and which customers have at least `atLeast` of them, with their
 * number (admission control, SPEC §4.9). Served by the partial index of PENDING orders by customer
 * (migration 008): the orders in flight, never the whole table.
 */
export async function countOrdersInFlight(
  db: Kysely<OrderDatabase>,
  atLeast: number,
): Promise<{ total: number; byCustomer: Map<string, number> }> {
  // Infinity is no threshold: no customer listed.
  const threshold = Number.isFinite(atLeast) ? atLeast : 2_147_483_647;
  const result = await sql<{ total: number; busy: Record<string, number> }>`
    WITH pending AS (
      SELECT user_id, count(*)::int AS n FROM orders WHERE status = 'PENDING' GROUP BY user_id)
    SELECT coalesce(sum(n), 0)::int AS total,
           coalesce(json_object_agg(user_id, n) FILTER (WHERE n >= ${threshold}::int), '{}') AS busy
      FROM pending`.execute(db);
  const row = result.rows[0];
  return { total: row?.total ?? 0, byCustomer: new Map(Object.entries(row?.busy ?? {})) };
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
