import type { Kysely } from 'kysely';
import type { OrderDatabase } from '../database.js';
import type { Order } from './order.js';
import { selectOrderPage, type OrderFilter } from './orders.repository.js';

export type ListOrdersOutcome =
  { kind: 'page'; orders: Order[]; nextCursor: string | null } | { kind: 'bad_cursor' };

const MAX_BIGINT = 2n ** 63n - 1n;

/** One page of orders, newest first; the cursor is opaque to clients. */
export async function listOrders(
  db: Kysely<OrderDatabase>,
  query: OrderFilter & { limit: number; cursor?: string },
): Promise<ListOrdersOutcome> {
  let afterSeq: string | undefined;
  if (query.cursor !== undefined) {
    afterSeq = Buffer.from(query.cursor, 'base64url').toString('utf8');
    if (!/^[1-9][0-9]{0,18}$/.test(afterSeq) || BigInt(afterSeq) > MAX_BIGINT) return { kind: 'bad_cursor' };
  }
  // One row more than asked tells whether another page exists without a count query.
  const rows = await selectOrderPage(db, { ...query, afterSeq, limit: query.limit + 1 });
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const nextCursor =
    rows.length > query.limit && last ? Buffer.from(last.seq, 'utf8').toString('base64url') : null;
  return { kind: 'page', orders: page.map((row) => row.order), nextCursor };
}
