import { restoreTraceContext, type TraceCarrier } from '@platform/observability';
import { bindCorrelationTraces } from '@platform/outbox';
import type { Transact } from '@platform/service-host';
import type { OrderDatabase } from '../database.js';
import { applyOrderInputs } from './apply-order-inputs.js';
import type { Order } from './order.js';
import type { OrderMetrics } from './order.metrics.js';

export type CancelOrderOutcome =
  { kind: 'cancelled'; order: Order } | { kind: 'already_final'; order: Order } | { kind: 'not_found' };

/**
 * The customer cancels a PENDING order: `order.cancelled` (reason `customer_request`), one transaction.
 * With the order's `traceContext`, the cancellation and its compensation continue the order's trace.
 */
export async function cancelOrder(
  transact: Transact<OrderDatabase>,
  orderId: string,
  metrics?: OrderMetrics,
  traceContext?: TraceCarrier | null,
): Promise<CancelOrderOutcome> {
  const [cancellation] = await transact((trx) => {
    if (traceContext) bindCorrelationTraces(trx, [[orderId, restoreTraceContext(traceContext)]]);
    return applyOrderInputs(trx, [{ orderId, input: { kind: 'cancel_by_customer' } }]);
  });
  if (!cancellation) return { kind: 'not_found' };
  if (cancellation.decision.outcome !== 'cancelled')
    return { kind: 'already_final', order: cancellation.before };
  metrics?.observe([cancellation]);
  return { kind: 'cancelled', order: cancellation.after };
}
