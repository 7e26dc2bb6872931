import { sql, type Kysely, type Transaction } from 'kysely';
import type { InventoryDatabase } from '../database.js';
import type { Reservation } from './stock.js';

type Trx = Transaction<InventoryDatabase>;

/** What inventory decided so far for these orders, by order id (orders it never saw are absent). */
export async function findReservations(
  trx: Trx,
  orderIds: readonly string[],
): Promise<Map<string, Reservation>> {
  const rows = await trx
    .selectFrom('reservations')
    .select(['order_id', 'status', 'items'])
    // ANY of one array parameter: one statement text whatever the batch (its prepared form is reused).
    .where(sql<boolean>`order_id = ANY(${orderIds}::text[])`)
    .execute();
  return new Map(rows.map((row) => [row.order_id, { status: row.status, items: row.items }]));
}

/** Writes the orders' reservations, new or changed, in one statement. */
export async function saveReservations(
  trx: Trx,
  reservations: ReadonlyMap<string, Reservation>,
): Promise<void> {
  if (reservations.size === 0) return;
  const entries = [...reservations];
  await sql`
    INSERT INTO reservations (order_id, status, items)
    SELECT * FROM unnest(
      ${entries.map(([orderId]) => orderId)}::text[],
      ${entries.map(([, reservation]) => reservation.status)}::text[],
      ${entries.map(([, reservation]) => JSON.stringify(reservation.items))}::jsonb[])
    ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status, updated_at = now()`.execute(trx);
}

/** An order's reservation as the query API shows it: status, items, when it was made and last changed. */
export async function findReservationView(db: Kysely<InventoryDatabase>, orderId: string) {
  return db
    .selectFrom('reservations')
    .select(['order_id', 'status', 'items', 'created_at', 'updated_at'])
    .where('order_id', '=', orderId)
    .executeTakeFirst();
}
