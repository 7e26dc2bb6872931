import type { Logger } from '@platform/observability';
import { handleSagaEvents, startSagaService, type SagaService } from '@platform/service-host';
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
export type FulfilmentService = SagaService<FulfilmentDatabase, 'fulfilment'>;

/**
 * Prepares the database, starts the placement worker and consumes events; the caller decides where to
 * listen.
 */
export function createFulfilmentService(
  config: FulfilmentConfig,
  logger: Logger,
): Promise<FulfilmentService> {
  return startSagaService<FulfilmentDatabase, 'fulfilment'>({
    service: 'fulfilment',
    config,
    moduleUrl: import.meta.url,
    logger,
    parts: (host) => {
      const partner = createFulfilmentPartnerClient({
        baseUrl: config.placement.partnerUrl,
        timeoutMs: config.placement.callTimeoutMs,
        connections: config.placement.concurrency,
      });
      const worker = startPlacementWorker({
        db: host.db,
        transact: host.transact,
        partner,
        settings: config.placement,
        logger,
        registry: host.registry,
      });
      return {
        handlers: handleSagaEvents({
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
        routes: async (api) => {
          await api.register(placementsRoutes, { db: host.db });
        },
        beside: [worker, { stop: () => partner.close() }],
      };
    },
  });
}
