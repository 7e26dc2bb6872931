import type { Logger } from '@platform/observability';
import { startLeaseWorker, type LeaseWorker } from '@platform/service-host';
import { enrichOrder, type EnrichmentDeps } from './enrich-order.js';
import { leaseOrdersToEnrich, releaseLeases } from './enrichment.repository.js';

/** How many orders one worker prices at once, how long it holds them, how often it looks for more. */
export interface EnrichmentWorkerOptions extends EnrichmentDeps {
  logger: Logger;
  concurrency: number;
  leaseMs: number;
  pollIntervalMs: number;
}

/**
 * Prices PENDING orders off the request path. Orders are leased, not locked: a worker that dies mid-way
 * delays its orders until their lease expires, and a stopping worker hands them back at once. Recording a
 * verdict is guarded by the order's state, so an order leased twice is still priced or cancelled once.
 */
export function startEnrichmentWorker(options: EnrichmentWorkerOptions): LeaseWorker {
  const { db, logger } = options;
  return startLeaseWorker({
    lease: (limit) => leaseOrdersToEnrich(db, limit, options.leaseMs),
    async process(order, signal) {
      const outcome = await enrichOrder(options, order, signal);
      logger.debug({ correlation_id: order.id, outcome }, 'order enriched');
    },
    release: (orders) =>
      releaseLeases(
        db,
        orders.map((order) => order.id),
      ),
    describe: (order) => ({ correlation_id: order.id }),
    concurrency: options.concurrency,
    pollIntervalMs: options.pollIntervalMs,
    logger,
  });
}
