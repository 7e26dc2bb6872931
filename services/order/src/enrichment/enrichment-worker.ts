import { context, type Context } from '@opentelemetry/api';
import { createGroupCommit } from '@platform/group-commit';
import type { Logger } from '@platform/observability';
import { startLeaseWorker, type LeaseWorker } from '@platform/lease-worker';
import { transactForCorrelations, type Transact } from '@platform/service-host';
import type { Kysely } from 'kysely';
import type { OrderDatabase } from '../database.js';
import type { Order } from '../orders/order.js';
import { attemptEnrichment, noAnswers, type EnrichmentDeps, type EnrichmentOutcome } from './enrich-order.js';
import type { Answers } from './price-order.js';
import { leaseOrdersToEnrich, releaseLeases } from './enrichment.repository.js';
import type { OrderMetrics } from '../orders/order.metrics.js';
import { recordVerdicts, type VerdictToRecord } from './record-verdicts.js';

/** How many orders one worker prices at once, how long it holds them, how often it looks for more. */
export interface EnrichmentWorkerOptions extends EnrichmentDeps {
  db: Kysely<OrderDatabase>;
  transact: Transact<OrderDatabase>;
  logger: Logger;
  concurrency: number;
  leaseMs: number;
  pollIntervalMs: number;
  /** Where pricing's verdicts are counted once committed. */
  orderMetrics?: OrderMetrics;
}

/** Most verdicts recorded in one transaction. */
const MAX_RECORDED_TOGETHER = 256;

/**
 * Prices PENDING orders off the request path. Orders are leased, not locked: intake leases each new order
 * to this worker and hands it over at commit, a poll finds those whose lease ran out (a dead worker's); a
 * stopping worker hands its orders back at once. Verdicts reached at the same time are recorded together,
 * each guarded by the order's state, so an order leased twice is still priced or cancelled once.
 */
export function startEnrichmentWorker(options: EnrichmentWorkerOptions): LeaseWorker<Order> {
  const { db, logger } = options;
  const record = createGroupCommit<VerdictToRecord & { traceContext: Context }, EnrichmentOutcome>(
    async (verdicts) => {
      const { outcomes, transitions } = await transactForCorrelations(
        options.transact,
        'record verdicts',
        verdicts.map(({ order, traceContext }) => ({ correlationId: order.id, traceContext })),
        (trx) => recordVerdicts(trx, verdicts),
      );
      options.orderMetrics?.observe(transitions);
      return outcomes;
    },
    { maxBatch: MAX_RECORDED_TOGETHER, maxConcurrentBatches: 1 },
  );
  // What each order waiting out a backoff was told so far, and how many attempts it had: between attempts
  // an order rests in the worker's memory, holding no slot (an order waiting on a dead product must not
  // keep other products' orders from being priced; seen in the chaos run: 64 slots all held by family-box
  // and veggie-box orders sleeping until their deadline delayed every classic-box order by 25 s). A
  // worker that dies loses this: the order's lease runs out and it is asked again from the start.
  const progress = new Map<string, { answers: Answers; attempts: number }>();
  return startLeaseWorker({
    lease: (limit) => leaseOrdersToEnrich(db, limit, options.leaseMs),
    async process(order) {
      const known = progress.get(order.id) ?? { answers: noAnswers(), attempts: 0 };
      const verdict = await attemptEnrichment(options, order, known.answers, known.attempts);
      if (verdict.kind === 'undecided') {
        progress.set(order.id, { answers: known.answers, attempts: known.attempts + 1 });
        return { resumeInMs: verdict.retryInMs };
      }
      progress.delete(order.id);
      const outcome = await record.submit({ order, verdict, traceContext: context.active() });
      const log = logger.child({ correlation_id: order.id });
      if (verdict.kind === 'cancelled' && outcome !== 'already_settled') {
        log.info({ reason: outcome }, 'order cancelled');
      } else {
        log.debug({ outcome }, 'order enriched');
      }
      return undefined;
    },
    release: (orders) =>
      releaseLeases(
        db,
        orders.map((order) => order.id),
      ),
    describe: (order) => ({ correlation_id: order.id }),
    trace: { spanName: () => 'price order', contextOf: (order) => order.trace_context },
    concurrency: options.concurrency,
    pollIntervalMs: options.pollIntervalMs,
    logger,
  });
}
