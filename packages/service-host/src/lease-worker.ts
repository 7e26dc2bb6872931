import { setMaxListeners } from 'node:events';
import type { Logger } from '@platform/observability';

/** Where a worker's work comes from and what it does with each piece. */
export interface LeaseWorkerOptions<Item> {
  /** Leases up to `limit` due items (rows marked with a lease expiry, so a crashed worker's come back). */
  lease(limit: number): Promise<Item[]>;
  /** Does one item's work; `signal` aborts waits when the worker stops. A throw is logged, not fatal. */
  process(item: Item, signal: AbortSignal): Promise<void>;
  /** Gives back the leases of items abandoned by a stop, so another worker takes them at once. */
  release(items: Item[]): Promise<void>;
  describe(item: Item): Record<string, unknown>;
  concurrency: number;
  pollIntervalMs: number;
  logger: Logger;
}

/** A running worker. */
export interface LeaseWorker {
  /** Looks for work now rather than at the next poll (a handler just created some). */
  nudge(): void;
  /** Stops leasing, aborts the waits in progress, lets items finish and hands abandoned ones back. */
  stop(): Promise<void>;
}

/**
 * Drives work that must outlive any one process, such as calls to a third party: the work is a row, and
 * a worker leases rows instead of holding a transaction, so no connection waits on a slow third party and
 * a worker that dies only delays its rows until their lease expires.
 */
export function startLeaseWorker<Item>(options: LeaseWorkerOptions<Item>): LeaseWorker {
  const { logger } = options;
  const inFlight = new Set<Promise<void>>();
  const abandoned: Item[] = [];
  const stopping = new AbortController();
  // Every piece of work in flight waits on this one signal: more listeners than Node's default warning
  // threshold (10) is the design, not a leak.
  setMaxListeners(options.concurrency + 10, stopping.signal);
  let wake: (() => void) | undefined;
  // Counts nudges: one that comes while leasing makes the next lease happen at once, not after a poll.
  let nudges = 0;
  const nudge = (): void => {
    nudges += 1;
    wake?.();
  };

  function start(item: Item): void {
    const work: Promise<void> = options.process(item, stopping.signal).then(
      () => undefined,
      (error: unknown) => {
        if (stopping.signal.aborted) abandoned.push(item);
        else
          logger.error(
            { err: error, ...options.describe(item) },
            'work failed; retried when its lease expires',
          );
      },
    );
    const tracked = work.finally(() => {
      inFlight.delete(tracked);
      nudge();
    });
    inFlight.add(tracked);
  }

  async function run(): Promise<void> {
    while (!stopping.signal.aborted) {
      const seen = nudges;
      const free = options.concurrency - inFlight.size;
      if (free > 0) {
        try {
          for (const item of await options.lease(free)) start(item);
        } catch (error) {
          logger.warn({ err: error }, 'could not lease work; trying again');
        }
      }
      if (nudges !== seen) continue;
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
    nudge,
    async stop() {
      stopping.abort();
      wake?.();
      await running;
      await Promise.all(inFlight);
      if (abandoned.length > 0) {
        await options.release(abandoned).catch((error: unknown) => {
          logger.warn({ err: error }, 'could not hand back leases; they expire by themselves');
        });
      }
    },
  };
}

/**
 * The wait after failed attempt number `attempt` (the first is 1) of leased work: base·2^(attempt-1),
 * capped, jittered between half and all of it, so work failing together (a third party's outage) does not
 * retry together, yet never hammers.
 */
export function retryDelayMs(
  attempt: number,
  retry: { baseMs: number; maxMs: number },
  random: () => number,
): number {
  const ceiling = Math.min(retry.maxMs, retry.baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling * (0.5 + random() / 2));
}
