import { authenticate, createTokenVerifier } from '@platform/auth';
import type { FastifyInstance } from 'fastify';
import type { EventConsumer } from '@platform/messaging';
import type { Logger } from '@platform/observability';
import { buildServiceApp } from '@platform/http-shell';
import { handleSagaEvents, openServiceHost, type ServiceHost } from '@platform/service-host';
import type { FulfilmentConfig } from './config.js';
import type { FulfilmentDatabase } from './database.js';
import {
  applyPlacementEvents,
  loadPlacements,
  PLACEMENT_EVENT_TYPES,
} from './placements/apply-placement-decisions.js';
import { createFulfilmentPartnerClient } from './placements/fulfilment-partner.client.js';
import { startPlacementWorker } from './placements/placement-worker.js';
import { placementsRoutes } from './placements/placements.routes.js';

/** A wired fulfilment service: its HTTP app (not listening yet) and what runs beside it. */
export interface FulfilmentService {
  app: FastifyInstance;
  host: ServiceHost<FulfilmentDatabase, 'fulfilment'>;
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
  const host = await openServiceHost<FulfilmentDatabase, 'fulfilment'>({
    service: 'fulfilment',
    config,
    moduleUrl: import.meta.url,
    logger,
  });
  const { db } = host;
  const partner = createFulfilmentPartnerClient({
    baseUrl: config.placement.partnerUrl,
    timeoutMs: config.placement.callTimeoutMs,
    connections: config.placement.concurrency,
  });
  const worker = startPlacementWorker({
    db,
    transact: host.transact,
    partner,
    settings: config.placement,
    logger,
    registry: host.registry,
  });
  const consumer = host.consume(
    handleSagaEvents({
      logger,
      transact: host.transact,
      consumer: 'fulfilment',
      types: PLACEMENT_EVENT_TYPES,
      load: (trx, events) =>
        loadPlacements(
          trx,
          events.map((event) => event.envelope.correlation_id),
        ),
      apply: (trx, events, placements) => applyPlacementEvents(trx, events, placements, config.placement),
      // A new placement is leased to this instance: its worker places it at once, no poll in between.
      afterCommit(applied) {
        worker.submit(applied.flatMap(({ result }) => (result.handOff ? [result.handOff] : [])));
      },
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
    await guarded.register(placementsRoutes, { db });
  });
  return {
    app,
    host,
    consumer,
    async stop() {
      await app.close();
      await worker.stop();
      await partner.close();
      await host.stop();
    },
  };
}
