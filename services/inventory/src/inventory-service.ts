import type { Logger } from '@platform/observability';
import { handleSagaEvents, startSagaService, type SagaService } from '@platform/service-host';
import type { InventoryConfig } from './config.js';
import type { InventoryDatabase } from './database.js';
import { applyStockEvents, loadStock, STOCK_EVENT_TYPES } from './stock/apply-stock-events.js';
import { seedStock, SPEC_INITIAL_STOCK } from './stock/seed-stock.js';
import { stockRoutes } from './stock/stock.routes.js';

/** A wired inventory service: its HTTP app (not listening yet) and what runs beside it. */
export type InventoryService = SagaService<InventoryDatabase, 'inventory'>;

/** Prepares the database and starts consuming order events; the caller decides where the app listens. */
export function createInventoryService(config: InventoryConfig, logger: Logger): Promise<InventoryService> {
  return startSagaService<InventoryDatabase, 'inventory'>({
    service: 'inventory',
    config,
    moduleUrl: import.meta.url,
    logger,
    parts: async (host) => {
      if (config.seedStock) {
        const added = await seedStock(host.db, SPEC_INITIAL_STOCK);
        if (added > 0) logger.info({ products: added }, "SPEC §6's initial stock added");
      }
      return {
        handlers: handleSagaEvents({
          logger,
          transact: host.transact,
          consumer: 'inventory',
          types: STOCK_EVENT_TYPES,
          load: loadStock,
          apply: applyStockEvents,
        }),
        routes: async (api) => {
          await api.register(stockRoutes, { db: host.db });
        },
      };
    },
  });
}
