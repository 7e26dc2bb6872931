import { sql, type Kysely, type Selectable } from 'kysely';
import { leaseRows, releaseLeasedRows, type LeasedTable } from '@platform/postgres';
import type { OrderDatabase, OrdersTable } from '../database.js';
import type { Order } from '../orders/order.js';
import { toOrder } from '../orders/orders.repository.js';

/** Orders are leased to the pricing worker through `enrichment_lease_until`. */
const ENRICHMENT_LEASES: LeasedTable = {
  table: 'orders',
  key: 'id',
  keyType: 'uuid',
  leaseColumn: 'enrichment_lease_until',
};

/** Leases up to `limit` PENDING, unpriced orders that no live lease holds, oldest first (see `leaseRows`). */
export async function leaseOrdersToEnrich(
  db: Kysely<OrderDatabase>,
  limit: number,
  leaseMs: number,
): Promise<Order[]> {
  const rows = await leaseRows<Selectable<OrdersTable>, OrderDatabase>(db, ENRICHMENT_LEASES, {
    due: sql`status = 'PENDING' AND priced_at IS NULL`,
    orderBy: sql`created_at`,
    limit,
    leaseMs,
    returning: sql`*`,
  });
  return rows.map(toOrder);
}

/** Gives leased orders back at once (a worker stopping), so another takes them without waiting. */
export async function releaseLeases(db: Kysely<OrderDatabase>, ids: readonly string[]): Promise<void> {
  await releaseLeasedRows(db, ENRICHMENT_LEASES, ids);
}
