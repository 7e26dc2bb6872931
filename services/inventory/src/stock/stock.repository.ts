import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { InventoryDatabase, ReservationStatus, ReservedItem, StockTable } from '../database.js';

type Db = Kysely<InventoryDatabase>;
type Trx = Transaction<InventoryDatabase>;

/** A product's counters, as `GET /stock` shows them. */
export type StockLevel = Pick<Selectable<StockTable>, 'product_code' | 'available' | 'reserved' | 'sold'>;

/**
 * Serialises everything this service does for one order (created, cancelled and completed may arrive at
 * once): the second handler waits for the first to commit and then sees its reservation row.
 */
export async function lockOrder(trx: Trx, orderId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${orderId}, 0))`.execute(trx);
}

export async function findReservation(trx: Trx, orderId: string) {
  return trx.selectFrom('reservations').selectAll().where('order_id', '=', orderId).executeTakeFirst();
}

export async function insertReservation(
  trx: Trx,
  orderId: string,
  status: ReservationStatus,
  items: readonly ReservedItem[],
): Promise<void> {
  await trx
    .insertInto('reservations')
    .values({ order_id: orderId, status, items: JSON.stringify(items) })
    .execute();
}

export async function setReservationStatus(
  trx: Trx,
  orderId: string,
  status: ReservationStatus,
): Promise<void> {
  await trx
    .updateTable('reservations')
    .set({ status, updated_at: sql<Date>`now()` })
    .where('order_id', '=', orderId)
    .execute();
}

/** Locks the products' rows in a fixed order (two orders sharing products can never deadlock). */
export async function lockStock(trx: Trx, productCodes: readonly string[]): Promise<StockLevel[]> {
  if (productCodes.length === 0) return [];
  return trx
    .selectFrom('stock')
    .select(['product_code', 'available', 'reserved', 'sold'])
    .where('product_code', 'in', productCodes)
    .orderBy('product_code')
    .forUpdate()
    .execute();
}

/** How a stock movement shifts the counters of each product it touches. */
export type StockMovement = 'reserve' | 'release' | 'sell';

const MOVEMENTS: Record<StockMovement, { available: number; reserved: number; sold: number }> = {
  reserve: { available: -1, reserved: 1, sold: 0 },
  release: { available: 1, reserved: -1, sold: 0 },
  sell: { available: 0, reserved: -1, sold: 1 },
};

/** Moves the items' quantities between counters in one statement; the table's checks refuse a negative. */
export async function moveStock(
  trx: Trx,
  movement: StockMovement,
  items: readonly ReservedItem[],
): Promise<void> {
  const sign = MOVEMENTS[movement];
  await sql`
    UPDATE stock s SET
      available = s.available + ${sign.available} * m.quantity,
      reserved = s.reserved + ${sign.reserved} * m.quantity,
      sold = s.sold + ${sign.sold} * m.quantity,
      updated_at = now()
    FROM unnest(${items.map((i) => i.product_code)}::text[], ${items.map((i) => i.quantity)}::int[])
      AS m(product_code, quantity)
    WHERE s.product_code = m.product_code`.execute(trx);
}

export async function listStock(db: Db): Promise<StockLevel[]> {
  return db
    .selectFrom('stock')
    .select(['product_code', 'available', 'reserved', 'sold'])
    .orderBy('product_code')
    .execute();
}

export async function findStock(db: Db, productCode: string): Promise<StockLevel | undefined> {
  return db
    .selectFrom('stock')
    .select(['product_code', 'available', 'reserved', 'sold'])
    .where('product_code', '=', productCode)
    .executeTakeFirst();
}
