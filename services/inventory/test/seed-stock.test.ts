import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@platform/observability';
import {
  createTestDatabase,
  createTestExchange,
  testServiceEnv,
  type TestDatabase,
  type TestExchange,
} from '@platform/testing';
import { loadInventoryConfig } from '../src/config.js';
import { createInventoryService, type InventoryService } from '../src/inventory-service.js';
import { seedStock, SPEC_INITIAL_STOCK } from '../src/stock/seed-stock.js';

describe('the initial stock', () => {
  let database: TestDatabase;
  let exchange: TestExchange;
  let service: InventoryService;

  beforeAll(async () => {
    database = await createTestDatabase('inventory_seed');
    exchange = await createTestExchange('inventory_seed');
    const config = loadInventoryConfig({
      ...testServiceEnv('INVENTORY', database, exchange),
      INVENTORY_SEED_STOCK: 'false',
    });
    service = await createInventoryService(config, createLogger({ service: 'inventory', level: 'silent' }));
  });
  afterAll(async () => {
    await service.stop();
    await exchange.remove();
    await database.drop();
  });

  it('is not in a database the service created: production starts empty', async () => {
    expect(await database.query('SELECT * FROM stock')).toEqual([]);
  });

  it("is SPEC §6's when seeded, and a second seed (a restart) never restocks", async () => {
    expect(await seedStock(service.host.db, SPEC_INITIAL_STOCK)).toBe(6);
    await database.query("UPDATE stock SET available = 3, sold = 7 WHERE product_code = 'product-A'");
    expect(await seedStock(service.host.db, SPEC_INITIAL_STOCK)).toBe(0);
    const rows = await database.query<{ product_code: string; available: number; sold: number }>(
      'SELECT product_code, available, sold FROM stock ORDER BY product_code',
    );
    expect(Object.fromEntries(rows.map((row) => [row.product_code, row.available]))).toEqual({
      ...SPEC_INITIAL_STOCK,
      'product-A': 3,
    });
  });
});
