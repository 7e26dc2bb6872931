import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderEvents, PaymentEvents } from '@platform/contracts';
import { createLogger } from '@platform/observability';
import {
  assertHandlersMatch,
  handleSagaEvents,
  openServiceHost,
  type ServiceHost,
} from '@platform/service-host';
import {
  createTestDatabase,
  createTestExchange,
  testServiceEnv,
  type TestDatabase,
  type TestExchange,
} from '@platform/testing';
import { loadInventoryConfig } from '../src/config.js';
import type { InventoryDatabase } from '../src/database.js';
import { applyStockEvents, loadStock, STOCK_EVENT_TYPES } from '../src/stock/apply-stock-events.js';

describe('a service whose handlers and subscriptions differ', () => {
  let database: TestDatabase;
  let exchange: TestExchange;
  let host: ServiceHost<InventoryDatabase, 'inventory'>;

  beforeAll(async () => {
    database = await createTestDatabase('inventory_handlers');
    exchange = await createTestExchange('inventory_handlers');
    const config = loadInventoryConfig(testServiceEnv('INVENTORY', database, exchange));
    host = await openServiceHost<InventoryDatabase, 'inventory'>({
      service: 'inventory',
      config,
      moduleUrl: new URL('../src/inventory-service.ts', import.meta.url).href,
      logger: createLogger({ service: 'inventory', level: 'silent' }),
    });
  });
  afterAll(async () => {
    await host.stop();
    await exchange.remove();
    await database.drop();
  });

  const handlers = (types: typeof STOCK_EVENT_TYPES) =>
    handleSagaEvents({
      logger: createLogger({ service: 'inventory', level: 'silent' }),
      transact: host.transact,
      consumer: 'inventory',
      types,
      load: loadStock,
      apply: applyStockEvents,
    });

  it('does not start when a subscribed type has no handler', () => {
    const withoutCompleted = STOCK_EVENT_TYPES.filter((type) => type !== OrderEvents.completed);
    expect(() => host.consume(handlers(withoutCompleted))).toThrow(
      'inventory subscribes to order.completed with no handler',
    );
  });

  it('does not start when it handles a type it does not subscribe to', () => {
    const withFailed = [...STOCK_EVENT_TYPES, PaymentEvents.failed] as typeof STOCK_EVENT_TYPES;
    expect(() => host.consume(handlers(withFailed))).toThrow(
      'inventory has handlers for payment.failed it does not subscribe to',
    );
  });

  it('starts with exactly its subscriptions', async () => {
    const consumer = host.consume(handlers(STOCK_EVENT_TYPES));
    await expect(consumer.ready).resolves.toBeUndefined();
  });
});

describe('matching handlers against subscriptions', () => {
  it('names every type missing a handler and every handler without a subscription', () => {
    expect(() => assertHandlersMatch('payment', ['a', 'b', 'c'], ['b', 'd'])).toThrow(
      'payment subscribes to a, c with no handler and has handlers for d it does not subscribe to',
    );
    expect(() => assertHandlersMatch('payment', ['a', 'b'], ['b', 'a'])).not.toThrow();
  });
});
