import type { Kysely } from 'kysely';
import { restoreTraceContext, type Logger } from '@platform/observability';
import { bindCorrelationTraces } from '@platform/outbox';
import type { Transact } from '@platform/service-host';
import type { OrderDatabase } from '../database.js';
import type { OrderMetrics } from '../orders/order.metrics.js';
import { transition } from '../orders/order-state-machine.js';
import { recordTransitions } from '../orders/apply-order-inputs.js';
import { lockOverdueOrders, msUntilNextDeadline } from './saga.repository.js';

/** A running deadline sweeper. */
export interface SagaDeadline {
  stop(): Promise<void>;
}

const BATCH = 500;

/**
 * No order stays PENDING forever (seed 002's missing saga monitor): orders older than the deadline are
 * cancelled with reason `timeout`, each with its `order.cancelled`, which makes inventory release and
 * payment refund. The deadline is counted from `created_at`, so it survives restarts and any number of
 * instances may sweep at once. The sweeper sleeps until the oldest PENDING order's deadline (at least
 * `sweepIntervalMs`): with no order in flight it sleeps a whole deadline, since any order placed meanwhile
 * is due no sooner; idle, it costs nothing.
 */
export function startSagaDeadline(options: {
  db: Kysely<OrderDatabase>;
  transact: Transact<OrderDatabase>;
  logger: Logger;
  deadlineMs: number;
  sweepIntervalMs: number;
  metrics?: OrderMetrics;
}): SagaDeadline {
  const { db, logger } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  async function sweep(): Promise<number> {
    for (;;) {
      const cancelled = await options
        .transact(async (trx) => {
          const overdue = await lockOverdueOrders(trx, options.deadlineMs, BATCH);
          // The sweep has no trace of its own: each cancellation continues its order's.
          bindCorrelationTraces(
            trx,
            overdue.map((order) => [order.id, restoreTraceContext(order.trace_context)] as const),
          );
          const expired = overdue.map((order) => transition(order, { kind: 'expire' }));
          recordTransitions(trx, expired);
          return { overdue, expired };
        })
        .then(({ overdue, expired }) => {
          options.metrics?.observe(expired);
          return overdue;
        });
      for (const order of cancelled) {
        logger.warn({ correlation_id: order.id }, 'saga deadline passed; order cancelled (timeout)');
      }
      if (cancelled.length < BATCH || stopped) break;
    }
    const next = await msUntilNextDeadline(db, options.deadlineMs);
    return Math.min(options.deadlineMs, Math.max(options.sweepIntervalMs, next ?? options.deadlineMs));
  }

  function schedule(inMs: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = sweep().then(schedule, (error: unknown) => {
        logger.warn({ err: error }, 'saga deadline sweep failed; trying again');
        schedule(options.sweepIntervalMs);
      });
    }, inMs);
  }
  schedule(options.sweepIntervalMs);

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
