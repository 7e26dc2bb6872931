import type { FastifyInstance } from 'fastify';
import { OrderEvents, PaymentEvents } from '@platform/contracts';
import type { EventConsumer } from '@platform/messaging';
import type { Logger } from '@platform/observability';
import {
  buildServiceApp,
  handleThroughInbox,
  openServiceHost,
  routeEvents,
  type ServiceHost,
} from '@platform/service-host';
import type { FulfilmentConfig } from './config.js';
import type { FulfilmentDatabase } from './database.js';
import { cancelPlacement } from './placements/cancel-placement.js';
import { createFulfilmentPartnerClient } from './placements/fulfilment-partner.client.js';
import { startPlacementWorker } from './placements/placement-worker.js';
import { placementsRoutes } from './placements/placements.routes.js';
import { startPlacement } from './placements/start-placement.js';

/** A wired fulfilment service: its HTTP app (not listening yet) and what runs beside it. */
export interface FulfilmentService {
  app: FastifyInstance;
  host: ServiceHost<FulfilmentDatabase>;
  consumer: EventConsumer;
  stop(): Promise<void>;
}

/**
 * Prepares the database, starts the placement worker and consumes events; the caller decides where to
 * listen.
 */
export async function createFulfilmentService(
  config: FulfilmentConfig,
  logger: Logger,
): Promise<FulfilmentService> {
  const host = await openServiceHost<FulfilmentDatabase>({
    service: 'fulfilment',
    config,
    moduleUrl: import.meta.url,
    logger,
  });
  const { db } = host;
  const worker = startPlacementWorker({
    db,
    partner: createFulfilmentPartnerClient({
      baseUrl: config.placement.partnerUrl,
      timeoutMs: config.placement.callTimeoutMs,
    }),
    settings: config.placement,
    logger,
    registry: host.registry,
  });
  const consumer = host.consume(
    routeEvents({
      [PaymentEvents.processed]: handleThroughInbox(
        db,
        'fulfilment',
        (trx, order) => startPlacement(trx, order, config.placement.deadlineMs),
        // The new placement is due at once: no need to wait for the worker's next poll.
        (outcome) => {
          if (outcome === 'placing') worker.nudge();
        },
      ),
      [OrderEvents.cancelled]: handleThroughInbox(db, 'fulfilment', cancelPlacement),
    }),
  );
  const app = await buildServiceApp({ ...host, logger });
  await app.register(placementsRoutes, { db });
  return {
    app,
    host,
    consumer,
    async stop() {
      await app.close();
      await worker.stop();
      await host.stop();
    },
  };
}
