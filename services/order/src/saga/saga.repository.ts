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
