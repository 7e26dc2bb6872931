import type { Kysely } from 'kysely';
import type { Logger } from '@platform/observability';
import { appendToOutbox } from '@platform/outbox';
import type { OrderDatabase } from '../database.js';
import { orderCancelled } from '../orders/order.events.js';
import { cancelOverdueOrders } from './saga.repository.js';

/** A running deadline sweeper. */
export interface SagaDeadline {
  stop(): Promise<void>;
}

const BATCH = 500;

/**
 * No order stays PENDING forever (seed 002's missing saga monitor): every `sweepIntervalMs`, orders older
 * than the deadline are cancelled with reason `timeout`, each with its `order.cancelled`, which makes
 * inventory release and payment refund. The deadline is counted from `created_at`, so it survives restarts
 * and any number of instances may sweep at once.
 */
export function startSagaDeadline(options: {
  db: Kysely<OrderDatabase>;
  logger: Logger;
  deadlineMs: number;
  sweepIntervalMs: number;
}): SagaDeadline {
  const { db, logger } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  async function sweep(): Promise<void> {
    for (;;) {
      const cancelled = await db.transaction().execute(async (trx) => {
        const orders = await cancelOverdueOrders(trx, options.deadlineMs, BATCH);
        await appendToOutbox(
          trx,
          orders.map((order) => orderCancelled(order, 'timeout')),
        );
        return orders;
      });
      for (const order of cancelled) {
        logger.warn({ correlation_id: order.id }, 'saga deadline passed; order cancelled (timeout)');
      }
      if (cancelled.length < BATCH || stopped) return;
    }
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = sweep()
        .catch((error: unknown) => logger.warn({ err: error }, 'saga deadline sweep failed; trying again'))
        .finally(schedule);
    }, options.sweepIntervalMs);
  }
  schedule();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
