import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { InventoryDatabase, StockTable } from '../database.js';
import type { StockCounters } from './stock.js';

type Db = Kysely<InventoryDatabase>;
type Trx = Transaction<InventoryDatabase>;

/** A product's counters, as `GET /stock` shows them. */
export type StockLevel = Pick<Selectable<StockTable>, 'product_code' | 'available' | 'reserved' | 'sold'>;

/**
 * Locks the products' rows in a fixed order (two transactions sharing products can never deadlock on
 * them) and returns their counters by product code; an unknown product is absent.
 */
export async function lockStock(
  trx: Trx,
  productCodes: readonly string[],
): Promise<Map<string, StockCounters>> {
  if (productCodes.length === 0) return new Map();
  const rows = await trx
    .selectFrom('stock')
    .select(['product_code', 'available', 'reserved', 'sold'])
    // ANY of one array parameter: one statement text whatever the batch (its prepared form is reused).
    .where(sql<boolean>`product_code = ANY(${productCodes}::text[])`)
    .orderBy('product_code')
    .forUpdate()
    .execute();
  return new Map(rows.map(({ product_code, ...counters }) => [product_code, counters]));
}

/**
 * Adds each product's change to its counters, one statement for all products; the table's checks refuse
 * a negative counter, so a wrong decision fails the transaction instead of overselling.
 */
export async function changeStock(trx: Trx, changes: ReadonlyMap<string, StockCounters>): Promise<void> {
  if (changes.size === 0) return;
  const entries = [...changes];
  await sql`
    UPDATE stock s SET
      available = s.available + c.available,
      reserved = s.reserved + c.reserved,
      sold = s.sold + c.sold,
      updated_at = now()
    FROM unnest(
      ${entries.map(([code]) => code)}::text[],
      ${entries.map(([, change]) => change.available)}::int[],
      ${entries.map(([, change]) => change.reserved)}::int[],
      ${entries.map(([, change]) => change.sold)}::int[]) AS c(product_code, available, reserved, sold)
    WHERE s.product_code = c.product_code`.execute(trx);
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
