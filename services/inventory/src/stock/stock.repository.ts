import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { InventoryDatabase, ReservedItem, StockTable } from '../database.js';

type Db = Kysely<InventoryDatabase>;
type Trx = Transaction<InventoryDatabase>;

/** A product's counters, as `GET /stock` shows them. */
export type StockLevel = Pick<Selectable<StockTable>, 'product_code' | 'available' | 'reserved' | 'sold'>;

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

/** Adds `sign` × each item's quantity to its product's counters in one statement; the checks refuse a negative. */
export async function moveStock(
  trx: Trx,
  sign: { available: number; reserved: number; sold: number },
  items: readonly ReservedItem[],
): Promise<void> {
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
