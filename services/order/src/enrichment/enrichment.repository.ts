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

/** Records the prices; undefined when the order was meanwhile priced, cancelled or completed. */
export async function markPriced(
  trx: Transaction<OrderDatabase>,
  id: string,
  priced: { customerFullname: string; items: OrderItem[]; totalAmount: number },
): Promise<Order | undefined> {
  const row = await trx
    .updateTable('orders')
    .set({
      items: JSON.stringify(priced.items),
      customer_fullname: priced.customerFullname,
      total_amount: priced.totalAmount,
      priced_at: sql<Date>`now()`,
      enrichment_lease_until: null,
      updated_at: sql<Date>`now()`,
      timeline: sql<string>`timeline || jsonb_build_array(jsonb_build_object('step', 'priced', 'at', now()))`,
    })
    .where('id', '=', id)
    .where('status', '=', 'PENDING')
    .where('priced_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
  return row && toOrder(row);
}
