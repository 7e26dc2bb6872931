import { randomUUID } from 'node:crypto';
import type { OrderSnapshot, SubscribedType } from '@platform/contracts';
import { createLogger } from '@platform/observability';
import {
  createTestDatabase,
  sagaEvent,
  createTestExchange,
  type TestDatabase,
  type TestExchange,
  testServiceEnv,
  operatorHeaders,
} from '@platform/testing';
import { loadInventoryConfig } from '../src/config.js';
import { createInventoryService, type InventoryService } from '../src/inventory-service.js';

/** An inventory service on a database and exchange of the test's own, listening on a free port. */
export interface TestInventory {
  service: InventoryService;
  baseUrl: string;
  database: TestDatabase;
  exchange: TestExchange;
  /** Stops the service and removes the database, the exchange and its queues. */
  remove(): Promise<void>;
}

export async function startTestInventory(
  prefix: string,
  options: { database?: TestDatabase; env?: Record<string, string> } = {},
): Promise<TestInventory> {
  const database = options.database ?? (await createTestDatabase(prefix));
  const exchange = await createTestExchange(prefix);
  const config = loadInventoryConfig({
    ...testServiceEnv('INVENTORY', database, exchange),
    ...options.env,
  });
  const service = await createInventoryService(
    config,
    createLogger({ service: 'inventory', level: config.logLevel }),
  );
  const baseUrl = await service.app.listen(config.http);
  await service.consumer.ready;
  let stopped = false;
  return {
    service,
    baseUrl,
    database,
    exchange,
    async remove() {
      if (!stopped) await service.stop();
      stopped = true;
      await exchange.remove();
      await database.drop();
    },
  };
}

/** A priced order as order events carry it. */
export function pricedOrder(items: { product_code: string; quantity: number }[]): OrderSnapshot {
  return {
    order_id: randomUUID(),
    user_id: 'customer-123',
    customer_fullname: 'Grace Hopper',
    product_name: items.map((item) => item.product_code).join(', '),
    total_amount: items.reduce((sum, item) => sum + item.quantity * 50, 0),
    created_at: new Date().toISOString(),
    items: items.map((item) => ({ ...item, product_name: item.product_code, unit_price: 50 })),
  };
}

export const orderEvent = (type: SubscribedType<'inventory'>, order: OrderSnapshot, reason?: string) =>
  sagaEvent(type, order, reason === undefined ? {} : { reason });

export async function stockOf(baseUrl: string, productCode: string) {
  const response = await fetch(`${baseUrl}/stock/${productCode}`, { headers: await operatorHeaders() });
  return (await response.json()) as {
    product_code: string;
    available: number;
    reserved: number;
    sold: number;
  };
}
