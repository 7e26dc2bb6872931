import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { TraceCarrier } from '@platform/observability';
import type { OrderDatabase, OrdersTable } from '../database.js';
import {
  appendHistory,
  findHistories,
  toTimelineEntry,
  type HistoryAppend,
} from './order-history.repository.js';
import type { OrderTransition } from './order-state-machine.js';
import { isOrderId, type Order, type OrderItem, type OrderStatus, type OrderWithTimeline } from './order.js';

/** A row to insert: a new order as placed, before any pricing. */
export interface NewOrderRow {
  id: string;
  /** The placing request's trace context (see `Order.trace_context`). */
  traceContext: TraceCarrier | null;
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
  version: row.version,
  priced_at: row.priced_at,
  trace_context: row.trace_context,
  created_at: row.created_at,
  updated_at: row.updated_at,
});

const toStored = (row: Selectable<OrdersTable>): StoredOrder => ({
  order: toOrder(row),
  idempotencyKey: row.idempotency_key,
  requestHash: row.request_hash,
});

/**
 * Inserts new orders, each with its `placed` change as the first of its history, in one statement (a
 * data-modifying CTE: the history rows are those of the orders actually inserted). A row whose idempotency
 * key is already taken (by an earlier request, or by another row of the same statement) is skipped, not an
 * error: the caller finds the owner. Rows are inserted in the order given. With `enrichmentLeaseMs`, the
 * new orders are leased to the caller's pricing worker for that long.
 */
export async function insertOrders(
  trx: Trx,
  rows: readonly NewOrderRow[],
  enrichmentLeaseMs?: number,
): Promise<StoredOrder[]> {
  if (rows.length === 0) return [];
  const result = await sql<Selectable<OrdersTable>>`
    WITH inserted AS (
      INSERT INTO orders (id, user_id, status, items, requested_total_amount, idempotency_key, request_hash,
                          trace_context, version, enrichment_lease_until)
      SELECT r.id, r.user_id, 'PENDING', r.items, r.requested_total_amount, r.idempotency_key, r.request_hash,
             r.trace_context, 1, now() + ${enrichmentLeaseMs ?? null}::float8 * interval '1 millisecond'
        FROM unnest(
          ${rows.map((row) => row.id)}::uuid[],
          ${rows.map((row) => row.userId)}::text[],
          ${rows.map((row) => JSON.stringify(row.items))}::jsonb[],
          ${rows.map((row) => row.requestedTotal)}::numeric[],
          ${rows.map((row) => row.idempotencyKey)}::text[],
          ${rows.map((row) => row.requestHash)}::text[],
          ${rows.map((row) => row.traceContext && JSON.stringify(row.traceContext))}::json[])
          WITH ORDINALITY
          AS r(id, user_id, items, requested_total_amount, idempotency_key, request_hash, trace_context, n)
       ORDER BY r.n
      ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
      RETURNING *),
    placed AS (
      INSERT INTO order_history (order_id, position, step, data)
      SELECT id, 1, 'placed',
             jsonb_build_object('user_id', user_id, 'items', items, 'requested_total_amount', requested_total_amount)
        FROM inserted)
    SELECT * FROM inserted`.execute(trx);
  return result.rows.map(toStored);
}

/**
 * Locks the orders' rows for the rest of the transaction (in a fixed order, so two transactions never
 * deadlock on them) and returns them by id; an unknown id is absent. A transition is decided on what this
 * returns and saved with `saveTransitions`.
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

/** Thrown when an order changed between the read a transition was decided on and its write. */
export class StaleOrderError extends Error {
  readonly code = 'stale_order';
  constructor(readonly orderIds: readonly string[]) {
    super(`orders changed since their transition was decided: ${orderIds.join(', ')}`);
    this.name = 'StaleOrderError';
  }
}

/**
 * The one way an order changes: writes each transition's order (its new status and reason; items,
 * customer and total when it was priced) and appends its changes to the history, only where the row still
 * has the version the transition was decided on. Transitions that change nothing are skipped. Two
 * statements for any number of orders, sent together (they may ride with a COMMIT: `commitWith`): a
 * decision made on a stale row finds the history positions after its version taken, and the history's
 * primary key refuses them, failing the whole transaction in PostgreSQL itself.
 * @throws StaleOrderError when a row's version moved (its lock was not held): nothing of the transaction
 *   is written.
 */
export async function saveTransitions(
  trx: Trx,
  transitions: readonly (OrderTransition & { eventId?: string })[],
): Promise<void> {
  const changed = transitions.filter((t) => t.decision.changes.length > 0);
  if (changed.length === 0) return;
  const priced = changed.map((t) => t.before.priced_at === null && t.after.priced_at !== null);
  const stale = (written: ReadonlySet<string>) =>
    new StaleOrderError(changed.map((t) => t.before.id).filter((id) => !written.has(id)));
  const updating = sql<{ id: string }>`
    UPDATE orders o SET
      status = c.status,
      reason = c.reason,
      items = coalesce(c.items, o.items),
      customer_fullname = coalesce(c.customer_fullname, o.customer_fullname),
      total_amount = coalesce(c.total_amount, o.total_amount),
      priced_at = CASE WHEN c.priced THEN now() ELSE o.priced_at END,
      enrichment_lease_until = CASE WHEN c.priced OR c.status <> 'PENDING' THEN NULL ELSE o.enrichment_lease_until END,
      version = c.version,
      updated_at = now()
    FROM unnest(
      ${changed.map((t) => t.before.id)}::uuid[],
      ${changed.map((t) => t.before.version)}::int[],
      ${changed.map((t) => t.after.version)}::int[],
      ${changed.map((t) => t.after.status)}::text[],
      ${changed.map((t) => t.after.reason)}::text[],
      ${changed.map((t, i) => (priced[i] ? JSON.stringify(t.after.items) : null))}::jsonb[],
      ${changed.map((t, i) => (priced[i] ? t.after.customer_fullname : null))}::text[],
      ${changed.map((t, i) => (priced[i] ? t.after.total_amount : null))}::numeric[],
      ${priced}::boolean[])
      AS c(id, expected_version, version, status, reason, items, customer_fullname, total_amount, priced)
    WHERE o.id = c.id AND o.version = c.expected_version
    RETURNING o.id`.execute(trx);
  const appending = appendHistory(
    trx,
    changed.flatMap((t) =>
      t.decision.changes.map((change, i): HistoryAppend => ({
        orderId: t.before.id,
        position: t.before.version + i + 1,
        change,
        ...(t.eventId === undefined ? {} : { eventId: t.eventId }),
      })),
    ),
  ).catch((error: unknown) => {
    // A position already taken: the order moved on since the decision (23505 on the history's key).
    if ((error as { code?: string }).code === '23505') throw stale(new Set());
    throw error;
  });
  const [result] = await Promise.all([updating, appending]);
  if (result.rows.length !== changed.length) throw stale(new Set(result.rows.map((row) => row.id)));
}

/** The orders with their timelines (one more statement for all of them), in the same order. */
export async function withTimelines(db: Db, orders: readonly Order[]): Promise<OrderWithTimeline[]> {
  const histories = await findHistories(
    db,
    orders.map((order) => order.id),
  );
  return orders.map((order) => ({
    order,
    timeline: (histories.get(order.id) ?? []).map(toTimelineEntry),
  }));
}

/** The order with its timeline. */
export async function withTimeline(db: Db, order: Order): Promise<OrderWithTimeline> {
  const histories = await findHistories(db, [order.id]);
  return { order, timeline: (histories.get(order.id) ?? []).map(toTimelineEntry) };
}

/** The orders holding these idempotency keys. */
export async function findOrdersByIdempotencyKeys(db: Db, keys: readonly string[]): Promise<StoredOrder[]> {
  if (keys.length === 0) return [];
  const rows = await db
    .selectFrom('orders')
    .selectAll()
    // ANY of one array parameter: one statement text whatever the batch (its prepared form is reused).
    .where(sql<boolean>`idempotency_key = ANY(${keys}::text[])`)
    .execute();
  return rows.map(toStored);
}

export async function findOrderById(db: Db, id: string): Promise<Order | undefined> {
  const row = await db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toOrder(row);
}

/** What a listing of orders may be narrowed to (see `ListOrdersQuery`). */
export interface OrderFilter {
  userId?: string;
  status?: OrderStatus;
  reason?: string;
  productCode?: string;
  /** An order id, a customer id or a product code: orders that match any of them. */
  text?: string;
  createdFrom?: Date;
  createdTo?: Date;
}

/** Newest first; `afterSeq` continues a listing below the last order of the previous page. */
export async function selectOrderPage(
  db: Db,
  filter: OrderFilter & { afterSeq?: string; limit: number },
): Promise<{ order: Order; seq: string }[]> {
  const rows = await orderPageQuery(db, filter).execute();
  return rows.map((row) => ({ order: toOrder(row), seq: row.seq }));
}

/**
 * The query of `selectOrderPage`, not run: each filter is served by an index (migrations 001 and 008),
 * which orders-search.test.ts shows with EXPLAIN, so that a search matching nothing reads little.
 */
export function orderPageQuery(db: Db, filter: OrderFilter & { afterSeq?: string; limit: number }) {
  let query = db.selectFrom('orders').selectAll().orderBy('seq', 'desc').limit(filter.limit);
  if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  if (filter.reason !== undefined) query = query.where('reason', '=', filter.reason);
  if (filter.productCode !== undefined) query = query.where(containsProduct(filter.productCode));
  if (filter.createdFrom !== undefined) query = query.where('created_at', '>=', filter.createdFrom);
  if (filter.createdTo !== undefined) query = query.where('created_at', '<', filter.createdTo);
  const { text } = filter;
  if (text !== undefined) {
    query = query.where((eb) =>
      eb.or([
        ...(isOrderId(text) ? [eb('id', '=', text)] : []),
        eb('user_id', '=', text),
        containsProduct(text),
      ]),
    );
  }
  if (filter.afterSeq !== undefined) query = query.where('seq', '<', filter.afterSeq);
  return query;
}

/** Orders with an item of this product (jsonb containment, served by the items' GIN index, orders_items). */
function containsProduct(productCode: string) {
  return sql<boolean>`items @> ${JSON.stringify([{ product_code: productCode }])}::jsonb`;
}
