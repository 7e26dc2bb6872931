import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKysely, createPool, type Pool } from '@platform/postgres';
import { createTestDatabase, type TestDatabase } from '@platform/testing';
import type { OrderDatabase } from '../src/database.js';
import { rebuildOrders } from '../src/orders/rebuild-orders.js';

const migration = (name: string) => readFile(new URL(`../migrations/${name}.sql`, import.meta.url), 'utf8');

// Orders stored before the history existed (a timeline column) become orders with a history their rows
// are the fold of: migration 005 on a database as the code before it left it.
describe('the history migration on orders stored before it', () => {
  let database: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    database = await createTestDatabase('order_history_migration');
    for (const name of ['001_orders', '002_enrichment', '003_saga', '004_storage']) {
      await database.query(await migration(name));
    }
    // A completed order and a cancelled one with a late step, as the code before the history wrote them.
    await database.query(`
      INSERT INTO orders (id, user_id, status, reason, items, customer_fullname, total_amount, requested_total_amount,
                          priced_at, timeline, created_at, updated_at) VALUES
      ('11111111-1111-4111-8111-111111111111', 'customer-123', 'COMPLETED', NULL,
       '[{"product_code": "product-A", "quantity": 2, "product_name": "Product A", "unit_price": 50}]',
       'Grace Hopper', 100, 100, '2026-11-30T10:00:00.200Z',
       '[{"step": "placed", "at": "2026-11-30T10:00:00.100+00:00"}, {"step": "priced", "at": "2026-11-30T10:00:00.200+00:00"},
         {"step": "stock_reserved", "at": "2026-11-30T10:00:00.300+00:00"}, {"step": "paid", "at": "2026-11-30T10:00:00.500+00:00"},
         {"step": "fulfilment_placed", "at": "2026-11-30T10:00:01+00:00"}, {"step": "completed", "at": "2026-11-30T10:00:01+00:00"}]',
       '2026-11-30T10:00:00.100Z', '2026-11-30T10:00:01Z'),
      ('22222222-2222-4222-8222-222222222222', 'nobody', 'CANCELLED', 'user_not_found',
       '[{"product_code": "classic-box", "quantity": 1, "product_name": null, "unit_price": null}]',
       NULL, NULL, NULL, NULL,
       '[{"step": "placed", "at": "2026-11-30T10:00:00.100+00:00"},
         {"step": "cancelled", "at": "2026-11-30T10:00:00.400+00:00", "reason": "user_not_found"},
         {"step": "paid", "at": "2026-11-30T10:00:02+00:00", "after_final": true}]',
       '2026-11-30T10:00:00.100Z', '2026-11-30T10:00:02Z')`);
    await database.query(await migration('005_history'));
    pool = createPool({ connectionString: database.url, max: 2, applicationName: 'test' });
  });
  afterAll(async () => {
    await pool.end();
    await database.drop();
  });

  it('turns each timeline into a history, step by step, and the rows are its fold', async () => {
    const history = await database.query<{
      order_id: string;
      position: number;
      step: string;
      after_final: boolean;
    }>('SELECT order_id, position, step, after_final FROM order_history ORDER BY order_id, position');
    expect(
      history.map(
        (row) => `${row.order_id.charAt(0)}${row.position}:${row.step}${row.after_final ? '!' : ''}`,
      ),
    ).toEqual([
      '11:placed',
      '12:priced',
      '13:stock_reserved',
      '14:paid',
      '15:fulfilment_placed',
      '16:completed',
      '21:placed',
      '22:cancelled',
      '23:paid!',
    ]);
    const report = await rebuildOrders(createKysely<OrderDatabase>(pool));
    expect(report).toEqual({ checked: 2, mismatches: [], repaired: 0 });
  });
});
