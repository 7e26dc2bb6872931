import { setMaxListeners } from 'node:events';
import { context, trace, type Attributes } from '@opentelemetry/api';
import { endSpanAfter, restoreTraceContext, type Logger, type TraceCarrier } from '@platform/observability';

const tracer = trace.getTracer('@platform/lease-worker');

/** How many poll intervals a worker waits at most between polls while it keeps finding nothing. */
const IDLE_BACKOFF_LIMIT = 10;

/**
 * What became of one attempt at an item: finished (undefined); due again after `dueInMs` through the
 * store (the attempt wrote its retry and gave the lease up; the worker wakes then and leases it); or kept
 * by this worker, its lease still held, and attempted again after `resumeInMs` (in memory, holding no
 * slot while it waits: work waiting out a backoff must not keep other work from starting).
 */
export type WorkOutcome = undefined | { dueInMs: number } | { resumeInMs: number };

/** Where a worker's work comes from and what it does with each piece. */
export interface LeaseWorkerOptions<Item> {
  /**
   * Leases up to `limit` items that are due and that no live lease holds (rows marked with a lease expiry,
   * so a crashed worker's come back): work due later (a retry), or left by a worker that died.
   */
  lease(limit: number): Promise<Item[]>;
  /**
   * Does one item's work (one attempt of it); `signal` aborts waits when the worker stops. Resolves with
   * what became of the item (see WorkOutcome). A throw is logged, not fatal.
   */
  process(item: Item, signal: AbortSignal): Promise<WorkOutcome>;
  /** Gives back the leases of items abandoned by a stop, so another worker takes them at once. */
  release(items: Item[]): Promise<void>;
  describe(item: Item): Record<string, unknown>;
  /**
   * Each attempt is a span (named by `spanName`) in the trace the item's work
   * belongs to (`contextOf`: the context stored with its row by whatever created the work), so a third
   * party's call shows in its saga instance's trace.
   */
  trace?: { spanName(item: Item): string; contextOf(item: Item): TraceCarrier | null };
  concurrency: number;
  /**
   * How often to look for due work nobody handed over (retries of other instances, dead workers'), in ms;
   * the wait doubles after each poll that found nothing, up to ten times this.
   */
  pollIntervalMs: number;
  logger: Logger;
}

/** A running worker. */
export interface LeaseWorker<Item> {
  /**
   * Hands over items the caller leased itself, in the transaction that created the work: they are worked
   * on at once, without a poll or a lease query.
   */
  submit(items: readonly Item[]): void;
  /** Looks for due work now rather than at the next poll. */
  nudge(): void;
  /** Stops leasing, aborts the waits in progress, lets items finish and hands abandoned ones back. */
  stop(): Promise<void>;
}

/**
 * Drives work that must outlive any one process, such as calls to a third party: the work is a row, and
 * a worker leases rows instead of holding a transaction, so no connection waits on a slow third party and
 * a worker that dies only delays its rows until their lease expires. New work comes straight from the
 * handler that created it (`submit`); the worker polls only for work due later, and wakes itself when a
 * retry it scheduled is due.
 */
export function startLeaseWorker<Item>(options: LeaseWorkerOptions<Item>): LeaseWorker<Item> {
  const { logger } = options;
  const inFlight = new Set<Promise<void>>();
  const queued: Item[] = [];
  const abandoned: Item[] = [];
  /** Items kept between attempts (`resumeInMs`), each with the timer that queues it again. */
  const resting = new Map<NodeJS.Timeout, Item>();
  const stopping = new AbortController();
  // Every piece of work in flight waits on this one signal: more listeners than Node's default warning
  // threshold (10) is the design, not a leak.
  setMaxListeners(options.concurrency + 10, stopping.signal);
  let wake: (() => void) | undefined;
  // Counts nudges: one that comes while leasing makes the next lease happen at once, not after a poll.
  let nudges = 0;
  let retryTimer: { at: number; timer: NodeJS.Timeout } | undefined;
  const nudge = (): void => {
    nudges += 1;
    wake?.();
  };

  /** Wakes the loop when a retry is due, keeping only the earliest such wake-up. */
  function wakeIn(ms: number): void {
    const at = Date.now() + ms;
    if (retryTimer && retryTimer.at <= at) return;
    if (retryTimer) clearTimeout(retryTimer.timer);
    const timer = setTimeout(() => {
      retryTimer = undefined;
      nudge();
    }, ms);
    timer.unref();
    retryTimer = { at, timer };
  }

  /** One attempt at an item, in a span of its trace when there is one. */
  function attempt(item: Item): Promise<WorkOutcome> {
    const traced = options.trace;
    const carrier = traced?.contextOf(item);
    if (!traced || !carrier) return options.process(item, stopping.signal);
    const parent = restoreTraceContext(carrier);
    const attributes: Attributes = {};
    for (const [name, value] of Object.entries(options.describe(item))) {
      if (typeof value === 'string' || typeof value === 'number') attributes[name] = value;
    }
    const span = tracer.startSpan(traced.spanName(item), { attributes }, parent);
    return context.with(trace.setSpan(parent, span), () =>
      endSpanAfter(span, () => options.process(item, stopping.signal)),
    );
  }

  function start(item: Item): void {
    const work: Promise<void> = attempt(item).then(
      (outcome) => {
        if (outcome === undefined) return;
        if (stopping.signal.aborted) {
          if ('resumeInMs' in outcome) abandoned.push(item);
        } else if ('dueInMs' in outcome) {
          wakeIn(outcome.dueInMs);
        } else {
          rest(item, outcome.resumeInMs);
        }
      },
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
      pump();
    });
    inFlight.add(tracked);
  }

  function rest(item: Item, ms: number): void {
    const timer = setTimeout(() => {
      resting.delete(timer);
      queued.push(item);
      pump();
    }, ms);
    resting.set(timer, item);
  }

  /**
   * Starts handed-over items while there is room. Finishing an item does not trigger a lease query: new
   * work is handed over, and what is due later is found by the poll or by the wake-up of its retry.
   */
  function pump(): void {
    while (queued.length > 0 && inFlight.size < options.concurrency && !stopping.signal.aborted) {
      start(queued.shift() as Item);
    }
  }

  async function run(): Promise<void> {
    // Polls that found nothing in a row: the wait grows with them (up to ten poll intervals), so an idle
    // worker costs next to nothing; any lease found, handed-over item or nudge brings it back.
    let emptyPolls = 0;
    while (!stopping.signal.aborted) {
      const seen = nudges;
      const free = options.concurrency - inFlight.size - queued.length;
      if (free > 0) {
        try {
          const leased = await options.lease(free);
          for (const item of leased) start(item);
          emptyPolls = leased.length > 0 || inFlight.size > 0 ? 0 : emptyPolls + 1;
        } catch (error) {
          logger.warn({ err: error }, 'could not lease work; trying again');
        }
      }
      if (nudges !== seen) continue;
      const waitMs = options.pollIntervalMs * Math.min(IDLE_BACKOFF_LIMIT, 2 ** Math.max(0, emptyPolls - 1));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, waitMs);
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
    submit(items) {
      if (stopping.signal.aborted) {
        abandoned.push(...items);
        return;
      }
      queued.push(...items);
      pump();
    },
    nudge,
    async stop() {
      stopping.abort();
      wake?.();
      if (retryTimer) clearTimeout(retryTimer.timer);
      await running;
      for (const [timer, item] of resting) {
        clearTimeout(timer);
        abandoned.push(item);
      }
      resting.clear();
      abandoned.push(...queued.splice(0));
      await Promise.all(inFlight);
      if (abandoned.length > 0) {
        await options.release(abandoned).catch((error: unknown) => {
          logger.warn({ err: error }, 'could not hand back leases; they expire by themselves');
        });
      }
    },
  };
}
