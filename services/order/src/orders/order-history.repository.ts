import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { OrderDatabase, OrderHistoryTable } from '../database.js';
import type { HistoryChange, HistoryEntry } from './order-history.js';
import type { Order, TimelineEntry } from './order.js';

/** A change to append: the order, its position in the order's history (1, 2, …), the causing event. */
export interface HistoryAppend {
  orderId: string;
  position: number;
  change: HistoryChange;
  eventId?: string;
}

/**
 * Appends changes to the orders' histories in one statement, stamped with the transaction's time (the
 * time the order row gets too), or, for a step another service reported, the time it happened there. The
 * primary key (order, position) refuses a position written twice: two
 * writers that decided on the same version of an order cannot both append.
 */
export async function appendHistory(
  trx: Transaction<OrderDatabase>,
  appends: readonly HistoryAppend[],
): Promise<void> {
  if (appends.length === 0) return;
  await sql`
    INSERT INTO order_history (order_id, position, step, reason, after_final, data, event_id, at)
    SELECT a.order_id, a.position, a.step, a.reason, a.after_final, a.data, a.event_id, coalesce(a.at, now())
      FROM unnest(
        ${appends.map((a) => a.orderId)}::uuid[],
        ${appends.map((a) => a.position)}::int[],
        ${appends.map((a) => a.change.step)}::text[],
        ${appends.map(({ change }) => ('reason' in change ? change.reason : null))}::text[],
        ${appends.map(({ change }) => 'after_final' in change && change.after_final === true)}::boolean[],
        ${appends.map(({ change }) => ('data' in change && change.data ? JSON.stringify(change.data) : null))}::jsonb[],
        ${appends.map((a) => a.eventId ?? null)}::text[],
        -- A step another service reported keeps the time it happened there; the rest, the commit's.
        ${appends.map(({ change }) => ('reportedAt' in change ? (change.reportedAt ?? null) : null))}::timestamptz[])
        AS a(order_id, position, step, reason, after_final, data, event_id, at)`.execute(trx);
}

/** A stored row as the change it records (rows are written only by `appendHistory`, from typed changes). */
export function toHistoryEntry(row: Selectable<OrderHistoryTable>): HistoryEntry {
  return {
    step: row.step,
    ...(row.reason === null ? {} : { reason: row.reason }),
    ...(row.after_final ? { after_final: true } : {}),
    ...(row.data === null ? {} : { data: row.data }),
    position: row.position,
    at: row.at,
    event_id: row.event_id,
  } as HistoryEntry;
}

/** The histories of some orders, each in order; an order without history is absent. */
export async function findHistories(
  db: Kysely<OrderDatabase>,
  orderIds: readonly string[],
): Promise<Map<string, HistoryEntry[]>> {
  const histories = new Map<string, HistoryEntry[]>();
  if (orderIds.length === 0) return histories;
  const rows = await db
    .selectFrom('order_history')
    .selectAll()
    .where(sql<boolean>`order_id = ANY(${orderIds}::uuid[])`)
    .orderBy('order_id')
    .orderBy('position')
    .execute();
  for (const row of rows) {
    const entries = histories.get(row.order_id) ?? [];
    entries.push(toHistoryEntry(row));
    histories.set(row.order_id, entries);
  }
  return histories;
}

/** The timeline of an order just placed: its `placed` step, at the time it was stored. */
export function placedTimeline(order: Order): TimelineEntry[] {
  return [{ step: 'placed', at: order.created_at.toISOString() }];
}

/** A history entry as a step of the timeline (`GET /orders/{id}`): the step, when, why, whether late. */
export function toTimelineEntry(entry: Pick<HistoryEntry, 'at'> & HistoryChange): TimelineEntry {
  return {
    step: entry.step,
    at: entry.at.toISOString(),
    ...('reason' in entry ? { reason: entry.reason } : {}),
    ...('after_final' in entry && entry.after_final === true ? { after_final: true } : {}),
  };
}
