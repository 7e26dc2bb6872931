import { sql, type Kysely } from 'kysely';
import type { InventoryDatabase } from '../database.js';

/** SPEC §6's initial stock, in units per product: what `npm start` and the tests begin with. */
export const SPEC_INITIAL_STOCK: Readonly<Record<string, number>> = {
  'product-A': 10,
  'product-B': 5,
  'product-C': 0,
  'classic-box': 1000,
  'family-box': 1000,
  'veggie-box': 1000,
};

/**
 * Adds the products of `levels` that the stock table does not have yet, each with that many units
 * available; a product already there keeps its counters (a restart never restocks). Returns how many
 * products it added.
 */
export async function seedStock(
  db: Kysely<InventoryDatabase>,
  levels: Readonly<Record<string, number>>,
): Promise<number> {
  const entries = Object.entries(levels);
  if (entries.length === 0) return 0;
  const result = await sql`
    INSERT INTO stock (product_code, available)
    SELECT * FROM unnest(${entries.map(([code]) => code)}::text[], ${entries.map(([, units]) => units)}::int[])
    ON CONFLICT (product_code) DO NOTHING`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
