import { trace, type Context } from '@opentelemetry/api';
import type { Transaction } from 'kysely';
import { inBatchSpan } from '@platform/observability';
import { bindOrderTraces } from '@platform/outbox';
import type { Transact } from './service-host.js';

const tracer = trace.getTracer('@platform/service-host');

/** An order a shared transaction works for, and the trace (request, event or call) it continues. */
export interface OrderTrace {
  orderId: string;
  traceContext: Context;
}

/**
 * Runs `work` in one transaction on behalf of several orders (a group commit of requests, of verdicts,
 * of third-party answers), each continuing its own trace: what the transaction writes for an order (its
 * outbox rows, its work rows) carries that order's context, and the transaction itself is a span `name`
 * linked to each of them (or, for one order, part of its trace). See `inBatchSpan`, `bindOrderTraces`.
 * @throws whatever `work` or the transaction throws
 */
export function transactForOrders<Database, T>(
  transact: Transact<Database>,
  name: string,
  orders: readonly OrderTrace[],
  work: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  return inBatchSpan(
    tracer,
    name,
    orders.map((order) => order.traceContext),
    () =>
      transact((trx) => {
        bindOrderTraces(
          trx,
          orders.map((order) => [order.orderId, order.traceContext] as const),
        );
        return work(trx);
      }),
  );
}
