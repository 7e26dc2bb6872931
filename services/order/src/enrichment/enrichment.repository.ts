import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { OrderDatabase, OrdersTable } from '../database.js';
import type { Order, OrderItem } from '../orders/order.js';
import { toOrder } from '../orders/orders.repository.js';

/**
 * Leases up to `limit` PENDING, unpriced orders that no live lease holds, oldest first. The lease, not a
 * held transaction, marks them taken: third parties may take seconds and no connection waits on them.
 */
export async function leaseOrdersToEnrich(
  db: Kysely<OrderDatabase>,
  limit: number,
  leaseMs: number,
): Promise<Order[]> {
  const result = await sql<Selectable<OrdersTable>>`
    UPDATE orders SET enrichment_lease_until = now() + make_interval(secs => ${leaseMs / 1000})
     WHERE id IN (
       SELECT id FROM orders
        WHERE status = 'PENDING' AND priced_at IS NULL
          AND (enrichment_lease_until IS NULL OR enrichment_lease_until < now())
        ORDER BY created_at
        LIMIT ${limit}
          FOR UPDATE SKIP LOCKED)
    RETURNING *`.execute(db);
  return result.rows.map(toOrder);
}

/** Gives leased orders back at once (a worker stopping), so another takes them without waiting. */
export async function releaseLeases(db: Kysely<OrderDatabase>, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable('orders').set({ enrichment_lease_until: null }).where('id', 'in', ids).execute();
}

/**
 * Records the prices of several orders in one statement; returns the orders it priced, leaving out those
 * meanwhile priced, cancelled or completed.
 */
export async function markPriced(
  trx: Transaction<OrderDatabase>,
  priced: readonly { id: string; customerFullname: string; items: OrderItem[]; totalAmount: number }[],
): Promise<Order[]> {
  if (priced.length === 0) return [];
  const result = await sql<Selectable<OrdersTable>>`
    UPDATE orders o SET
      items = c.items,
      customer_fullname = c.customer_fullname,
      total_amount = c.total_amount,
      priced_at = now(),
      enrichment_lease_until = NULL,
      updated_at = now(),
      timeline = o.timeline || jsonb_build_array(jsonb_build_object('step', 'priced', 'at', now()))
    FROM unnest(
      ${priced.map((p) => p.id)}::uuid[],
      ${priced.map((p) => JSON.stringify(p.items))}::jsonb[],
      ${priced.map((p) => p.customerFullname)}::text[],
      ${priced.map((p) => p.totalAmount)}::numeric[]) AS c(id, items, customer_fullname, total_amount)
    WHERE o.id = c.id AND o.status = 'PENDING' AND o.priced_at IS NULL
    RETURNING o.*`.execute(trx);
  return result.rows.map(toOrder);
}

/**
 * Cancels several unpriced orders, each with its reason, in one statement; returns the orders it
 * cancelled, leaving out those meanwhile priced (a late verdict must not undo a price another worker
 * recorded), cancelled or completed.
 */
export async function cancelUnpricedOrders(
  trx: Transaction<OrderDatabase>,
  cancellations: readonly { id: string; reason: string }[],
): Promise<Order[]> {
  if (cancellations.length === 0) return [];
  const result = await sql<Selectable<OrdersTable>>`
    UPDATE orders o SET
      status = 'CANCELLED',
      reason = c.reason,
      enrichment_lease_until = NULL,
      updated_at = now(),
      timeline = o.timeline || jsonb_build_array(
        jsonb_build_object('step', 'cancelled', 'at', now(), 'reason', c.reason))
    FROM unnest(${cancellations.map((c) => c.id)}::uuid[], ${cancellations.map((c) => c.reason)}::text[])
      AS c(id, reason)
    WHERE o.id = c.id AND o.status = 'PENDING' AND o.priced_at IS NULL
    RETURNING o.*`.execute(trx);
  return result.rows.map(toOrder);
}
