import type { Kysely } from 'kysely';
import type { Logger } from '@platform/observability';
import { startLeaseWorker, type LeaseWorker } from '@platform/service-host';
import type { PlacementConfig } from '../config.js';
import type { FulfilmentDatabase } from '../database.js';
import { leaseDuePlacements, releaseLeases, type LeasedPlacement } from './placements.repository.js';
import { attemptPlacement, type FulfilmentPartner } from './placements.js';

/**
 * Places paid orders at the partner off the message path: each leased placement gets one attempt, and a
 * failed one is made due again in the database, so retries outlive any one process. A call in flight is
 * let finish when the worker stops (it is bounded by the call timeout), so its result is recorded.
 */
export function startPlacementWorker(options: {
  db: Kysely<FulfilmentDatabase>;
  partner: FulfilmentPartner;
  config: PlacementConfig;
  logger: Logger;
}): LeaseWorker {
  const { db, partner, config, logger } = options;
  return startLeaseWorker<LeasedPlacement>({
    lease: (limit) => leaseDuePlacements(db, limit, config.leaseMs),
    async process(placement) {
      const outcome = await attemptPlacement({ db, partner, retry: config.retry }, placement);
      const log = logger.child({ correlation_id: placement.order_id });
      const attempts = placement.attempts + 1;
      if (outcome === 'placed_after_cancellation') {
        // A known limit: the partner has no cancel API, so an order it accepted stays placed there.
        log.warn(
          { outcome, attempts },
          'the partner accepted an order cancelled meanwhile; it stays placed there',
        );
      } else if (outcome === 'failed') {
        log.warn({ outcome, attempts }, 'placement given up at its deadline');
      } else {
        log.info({ outcome, attempts }, 'placement attempted');
      }
    },
    release: (placements) =>
      releaseLeases(
        db,
        placements.map((p) => p.order_id),
      ),
    describe: (placement) => ({ correlation_id: placement.order_id }),
    concurrency: config.concurrency,
    pollIntervalMs: config.pollIntervalMs,
    logger,
  });
}
