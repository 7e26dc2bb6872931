import { sql, type Kysely, type Selectable } from 'kysely';
import type { OrderDatabase, OrdersTable } from '../database.js';
import type { HistoryEntry } from './order-history.js';
import { findHistories } from './order-history.repository.js';
import { evolve } from './order-state-machine.js';
import type { Order } from './order.js';
import { toOrder } from './orders.repository.js';

/** The fields of the order row that are the projection of its history, compared one by one. */
const PROJECTED = [
  'user_id',
  'status',
  'reason',
  'items',
  'customer_fullname',
  'total_amount',
  'requested_total_amount',
  'version',
  'priced_at',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof Order)[];

/** An order whose row is not the fold of its history, with the fields that differ. */
export interface ProjectionMismatch {
  orderId: string;
  fields: string[];
}

/** What a rebuild found (and, with `repair`, rewrote). */
export interface RebuildReport {
  checked: number;
  mismatches: ProjectionMismatch[];
  repaired: number;
}

/**
 * The order its history makes: `evolve` folded over it, from nothing.
 * @throws Error when the history is empty or does not start with `placed`.
 */
export function foldHistory(orderId: string, history: readonly HistoryEntry[]): Order {
  let order: Order | undefined;
  for (const entry of history) order = evolve(order, entry, entry.at, orderId);
  if (!order) throw new Error(`order ${orderId} has no history`);
  return order;
}

/** The projected fields in which `stored` and `rebuilt` differ (dates to the millisecond, values deeply). */
export function projectionDifferences(stored: Order, rebuilt: Order): string[] {
  const same = (a: unknown, b: unknown): boolean =>
    a instanceof Date && b instanceof Date
      ? a.getTime() === b.getTime()
      : JSON.stringify(a) === JSON.stringify(b);
  return PROJECTED.filter((field) => !same(stored[field], rebuilt[field]));
}

/**
 * Rebuilds orders from their histories and compares each with its row: one order, or all of them in
 * batches of `batchSize`, oldest first. With `repair`, a row that differs is rewritten from its history
 * (under its row lock, so no transition interleaves); without, nothing is written.
 */
export async function rebuildOrders(
  db: Kysely<OrderDatabase>,
  options: { orderId?: string; repair?: boolean; batchSize?: number } = {},
): Promise<RebuildReport> {
  const report: RebuildReport = { checked: 0, mismatches: [], repaired: 0 };
  const batchSize = options.batchSize ?? 500;
  let afterSeq: string | undefined;
  for (;;) {
    const done = await db.transaction().execute(async (trx) => {
      let query = trx.selectFrom('orders').selectAll().orderBy('seq').limit(batchSize);
      if (options.orderId !== undefined) query = query.where('id', '=', options.orderId);
      if (afterSeq !== undefined) query = query.where('seq', '>', afterSeq);
      const rows: Selectable<OrdersTable>[] = await (
        options.repair === true ? query.forUpdate() : query
      ).execute();
      const histories = await findHistories(
        trx,
        rows.map((row) => row.id),
      );
      for (const row of rows) {
        report.checked += 1;
        const rebuilt = foldHistory(row.id, histories.get(row.id) ?? []);
        const fields = projectionDifferences(toOrder(row), rebuilt);
        if (fields.length === 0) continue;
        report.mismatches.push({ orderId: row.id, fields });
        if (options.repair === true) {
          await sql`
            UPDATE orders SET user_id = ${rebuilt.user_id}, status = ${rebuilt.status}, reason = ${rebuilt.reason},
              items = ${JSON.stringify(rebuilt.items)}::jsonb, customer_fullname = ${rebuilt.customer_fullname},
              total_amount = ${rebuilt.total_amount}, requested_total_amount = ${rebuilt.requested_total_amount},
              version = ${rebuilt.version}, priced_at = ${rebuilt.priced_at}, created_at = ${rebuilt.created_at},
              updated_at = ${rebuilt.updated_at}
            WHERE id = ${row.id}`.execute(trx);
          report.repaired += 1;
        }
      }
      afterSeq = rows.at(-1)?.seq;
      return rows.length < batchSize || options.orderId !== undefined;
    });
    if (done) return report;
  }
}
