import { setMaxListeners } from 'node:events';
import type { Logger } from '@platform/observability';
import { enrichOrder, type EnrichmentDeps } from './enrich-order.js';
import { leaseOrdersToEnrich, releaseLeases } from './enrichment.repository.js';

/** How many orders one worker prices at once, how long it holds them, how often it looks for more. */
export interface EnrichmentWorkerOptions extends EnrichmentDeps {
  logger: Logger;
  concurrency: number;
  leaseMs: number;
  pollIntervalMs: number;
}

/** A running enrichment worker. */
export interface EnrichmentWorker {
  /** Stops taking orders, abandons the waits in progress and hands their orders back for another worker. */
  stop(): Promise<void>;
}

/**
 * Prices PENDING orders off the request path. Orders are leased, not locked: a worker that dies mid-way
 * delays its orders until their lease expires, and a stopping worker hands them back at once. Recording a
 * verdict is guarded by the order's state, so an order leased twice is still priced or cancelled once.
 */
export function startEnrichmentWorker(options: EnrichmentWorkerOptions): EnrichmentWorker {
  const { db, logger } = options;
  const inFlight = new Map<string, Promise<void>>();
  const abandoned: string[] = [];
  const stopping = new AbortController();
  // Every piece of work in flight waits on this one signal: more listeners than Node's default warning
  // threshold (10) is the design, not a leak.
  setMaxListeners(options.concurrency + 10, stopping.signal);
  let wake: (() => void) | undefined;
  const nudge = (): void => wake?.();

  function enrich(order: Parameters<typeof enrichOrder>[1]): void {
    const log = logger.child({ correlation_id: order.id });
    const work = enrichOrder(options, order, stopping.signal).then(
      (outcome) => log.info({ outcome }, 'order enriched'),
      (error: unknown) => {
        if (stopping.signal.aborted) abandoned.push(order.id);
        else log.error({ err: error }, 'enrichment failed; the order is retried when its lease expires');
      },
    );
    inFlight.set(
      order.id,
      work.finally(() => {
        inFlight.delete(order.id);
        nudge();
      }),
    );
  }

  async function run(): Promise<void> {
    while (!stopping.signal.aborted) {
      const free = options.concurrency - inFlight.size;
      if (free > 0) {
        try {
          for (const order of await leaseOrdersToEnrich(db, free, options.leaseMs)) enrich(order);
        } catch (error) {
          logger.warn({ err: error }, 'could not lease orders to enrich; trying again');
        }
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, options.pollIntervalMs);
        function done(): void {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
        wake = done;
      });
    }
  }

  const running = run();
  return {
    async stop() {
      stopping.abort();
      nudge();
      await running;
      await Promise.all(inFlight.values());
      await releaseLeases(db, abandoned).catch((error: unknown) => {
        logger.warn({ err: error }, 'could not hand back enrichment leases; they expire by themselves');
      });
    },
  };
}
