import { authenticate, createTokenVerifier } from '@platform/auth';
import type { FastifyInstance } from 'fastify';
import type { EventConsumer } from '@platform/messaging';
import type { Logger } from '@platform/observability';
import { buildServiceApp } from '@platform/http-shell';
import { handleSagaEvents, openServiceHost, type ServiceHost } from '@platform/service-host';
import type { InventoryConfig } from './config.js';
import type { InventoryDatabase } from './database.js';
import { applyStockEvents, loadStock, STOCK_EVENT_TYPES } from './stock/apply-stock-events.js';
import { seedStock, SPEC_INITIAL_STOCK } from './stock/seed-stock.js';
import { stockRoutes } from './stock/stock.routes.js';

/** A wired inventory service: its HTTP app (not listening yet) and what runs beside it. */
export interface InventoryService {
  app: FastifyInstance;
  host: ServiceHost<InventoryDatabase, 'inventory'>;
  consumer: EventConsumer;
  stop(): Promise<void>;
}

/** Prepares the database and starts consuming order events; the caller decides where the app listens. */
export async function createInventoryService(
  config: InventoryConfig,
  logger: Logger,
): Promise<InventoryService> {
  const host = await openServiceHost<InventoryDatabase, 'inventory'>({
    service: 'inventory',
    config,
    moduleUrl: import.meta.url,
    logger,
  });
  const { db } = host;
  if (config.seedStock) {
    const added = await seedStock(db, SPEC_INITIAL_STOCK);
    if (added > 0) logger.info({ products: added }, "SPEC §6's initial stock added");
  }
  const consumer = host.consume(
    handleSagaEvents({
      logger,
      transact: host.transact,
      consumer: 'inventory',
      types: STOCK_EVENT_TYPES,
      load: loadStock,
      apply: applyStockEvents,
    }),
  );
  const app = await buildServiceApp({ ...host, logger });
  // The query API, behind the bearer-token guard: operators only, in both modes (SPEC §4.10).
  await app.register(async (guarded) => {
    await guarded.register(authenticate, {
      mode: config.auth.mode,
      verify: createTokenVerifier(config.auth),
      defaultAccess: 'operator',
    });
    await guarded.register(stockRoutes, { db });
  });
  return {
    app,
    host,
    consumer,
    async stop() {
      await app.close();
      await host.stop();
    },
  };
}
