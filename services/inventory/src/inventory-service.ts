import type { FastifyInstance } from 'fastify';
import { OrderEvents } from '@platform/contracts';
import type { EventConsumer } from '@platform/messaging';
import type { Logger } from '@platform/observability';
import {
  buildServiceApp,
  handleThroughInbox,
  openServiceHost,
  routeEvents,
  type ServiceHost,
} from '@platform/service-host';
import type { InventoryConfig } from './config.js';
import type { InventoryDatabase } from './database.js';
import { releaseStock } from './stock/release-stock.js';
import { reserveStock } from './stock/reserve-stock.js';
import { sellStock } from './stock/sell-stock.js';
import { stockRoutes } from './stock/stock.routes.js';

/** A wired inventory service: its HTTP app (not listening yet) and what runs beside it. */
export interface InventoryService {
  app: FastifyInstance;
  host: ServiceHost<InventoryDatabase>;
  consumer: EventConsumer;
  stop(): Promise<void>;
}

/** Prepares the database and starts consuming order events; the caller decides where the app listens. */
export async function createInventoryService(
  config: InventoryConfig,
  logger: Logger,
): Promise<InventoryService> {
  const host = await openServiceHost<InventoryDatabase>({
    service: 'inventory',
    config,
    moduleUrl: import.meta.url,
    logger,
  });
  const { db } = host;
  const consumer = host.consume(
    routeEvents({
      [OrderEvents.created]: handleThroughInbox(db, 'inventory', reserveStock),
      [OrderEvents.cancelled]: handleThroughInbox(db, 'inventory', releaseStock),
      [OrderEvents.completed]: handleThroughInbox(db, 'inventory', sellStock),
    }),
  );
  const app = await buildServiceApp({ ...host, logger });
  await app.register(stockRoutes, { db });
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
