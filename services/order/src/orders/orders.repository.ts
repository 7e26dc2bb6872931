import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { OrderDatabase, OrdersTable } from '../database.js';
import type { Order, OrderItem, OrderStatus } from './order.js';

/** A row to insert: a new order as placed, before any pricing. */
export interface NewOrderRow {
  id: string;
  userId: string;
  items: OrderItem[];
  requestedTotal: number | null;
  idempotencyKey: string | null;
  requestHash: string | null;
}

/** An order together with the request identity that created it. */
export interface StoredOrder {
  order: Order;
  idempotencyKey: string | null;
  requestHash: string | null;
}

type Db = Kysely<OrderDatabase>;
/** Writes take a transaction: whatever they change goes with the outbox rows that announce it. */
type Trx = Transaction<OrderDatabase>;

export const toOrder = (row: Selectable<OrdersTable>): Order => ({
  id: row.id,
  user_id: row.user_id,
  status: row.status,
  reason: row.reason,
  items: row.items,
  customer_fullname: row.customer_fullname,
  total_amount: row.total_amount,
  requested_total_amount: row.requested_total_amount,
  timeline: row.timeline,
  created_at: row.created_at,
  updated_at: row.updated_at,
});

const toStored = (row: Selectable<OrdersTable>): StoredOrder => ({
  order: toOrder(row),
  idempotencyKey: row.idempotency_key,
  requestHash: row.request_hash,
});

/**
 * Inserts new orders in one statement. A row whose idempotency key is already taken (by an earlier
 * request, or by another row of the same statement) is skipped, not an error: the caller finds the owner.
 * With `enrichmentLeaseMs`, the new orders are leased to the caller's pricing worker for that long.
 */
export async function insertOrders(
  trx: Trx,
  rows: readonly NewOrderRow[],
  enrichmentLeaseMs?: number,
): Promise<StoredOrder[]> {
  const inserted = await trx
    .insertInto('orders')
    .values(
      rows.map((row) => ({
        id: row.id,
        user_id: row.userId,
        status: 'PENDING' as const,
        items: JSON.stringify(row.items),
        requested_total_amount: row.requestedTotal,
        idempotency_key: row.idempotencyKey,
        request_hash: row.requestHash,
        timeline: sql<string>`jsonb_build_array(jsonb_build_object('step', 'placed', 'at', now()))`,
        ...(enrichmentLeaseMs === undefined
          ? {}
          : { enrichment_lease_until: sql<Date>`now() + ${enrichmentLeaseMs} * interval '1 millisecond'` }),
      })),
    )
    .onConflict((conflict) =>
      conflict.column('idempotency_key').where('idempotency_key', 'is not', null).doNothing(),
    )
    .returningAll()
    .execute();
  return inserted.map(toStored);
}

export async function findOrdersByIdempotencyKeys(db: Db, keys: readonly string[]): Promise<StoredOrder[]> {
  if (keys.length === 0) return [];
  const rows = await db.selectFrom('orders').selectAll().where('idempotency_key', 'in', keys).execute();
  return rows.map(toStored);
}

export async function findOrderById(db: Db, id: string): Promise<Order | undefined> {
  const row = await db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toOrder(row);
}

/** Newest first; `afterSeq` continues a listing below the last order of the previous page. */
export async function selectOrderPage(
  db: Db,
  filter: { userId?: string; status?: OrderStatus; afterSeq?: string; limit: number },
): Promise<{ order: Order; seq: string }[]> {
  let query = db.selectFrom('orders').selectAll().orderBy('seq', 'desc').limit(filter.limit);
  if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  if (filter.afterSeq !== undefined) query = query.where('seq', '<', filter.afterSeq);
  const rows = await query.execute();
  return rows.map((row) => ({ order: toOrder(row), seq: row.seq }));
}

/**
 * Moves a PENDING order to CANCELLED; undefined when the order is missing or no longer pending (or, with
 * `unpricedOnly`, already priced: a late enrichment verdict must not undo a price another worker recorded).
 */
export async function cancelPendingOrder(
  trx: Trx,
  id: string,
  reason: string,
  options: { unpricedOnly?: boolean } = {},
): Promise<Order | undefined> {
  const row = await trx
    .updateTable('orders')
    .set({
      status: 'CANCELLED',
      reason,
      updated_at: sql<Date>`now()`,
      timeline: sql<string>`timeline || jsonb_build_array(jsonb_build_object('step', 'cancelled', 'at', now(), 'reason', ${reason}::text))`,
    })
    .where('id', '=', id)
    .where('status', '=', 'PENDING')
    .$if(options.unpricedOnly === true, (query) => query.where('priced_at', 'is', null))
    .returningAll()
    .executeTakeFirst();
  return row && toOrder(row);
}
