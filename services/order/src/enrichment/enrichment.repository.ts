import { sql, type Kysely, type Selectable } from 'kysely';
import type { OrderDatabase, OrdersTable } from '../database.js';
import type { Order } from '../orders/order.js';
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
