import { FulfilmentEvents, InventoryEvents, PaymentEvents, type EventEnvelope } from '@platform/contracts';
import type { CancellationReason, Order, OrderStatus } from '../orders/order.js';
import { orderCancelled, orderCompleted } from '../orders/order.events.js';

/** A timeline entry to append; the database stamps its time. */
export interface NewTimelineEntry {
  step: string;
  reason?: string;
  after_final?: true;
}

/** What a saga event did to its order. */
export type SagaOutcome = 'recorded' | 'completed' | 'cancelled' | 'after_final' | 'unknown_order';

/** An order's change: its status and reason afterwards, the entries its timeline gains, what it announces. */
export interface SagaTransition {
  outcome: SagaOutcome;
  status: OrderStatus;
  reason: string | null;
  entries: NewTimelineEntry[];
  event?: EventEnvelope;
}

/** What a saga event does to a PENDING order. */
type SagaRule =
  | { step: string; then: 'record'; expectedAfterFinal?: true }
  | { step: string; then: 'complete' }
  | { step: string; then: 'cancel'; reason: CancellationReason };

/**
 * What each saga event means for the order (SPEC §2), in one place:
 * - a step that moves nothing is recorded in the timeline (stock reserved, paid, refunded);
 * - the partner's acceptance completes the order, and `order.completed` sells the stock and tells the
 *   customer;
 * - a step that failed for good cancels the order with its reason, and `order.cancelled` starts the
 *   compensations.
 * An event about an order already final is recorded as `after_final` and acted on no further: the service
 * that reported it compensates by itself, on the `order.cancelled` it received. A refund follows a
 * cancellation by design, so it is never late.
 */
export const SAGA_STEPS = {
  [InventoryEvents.reserved]: { step: 'stock_reserved', then: 'record' },
  [InventoryEvents.unavailable]: { step: 'out_of_stock', then: 'cancel', reason: 'out_of_stock' },
  [PaymentEvents.processed]: { step: 'paid', then: 'record' },
  [PaymentEvents.failed]: { step: 'payment_failed', then: 'cancel', reason: 'payment_failed' },
  [PaymentEvents.refunded]: { step: 'refunded', then: 'record', expectedAfterFinal: true },
  [FulfilmentEvents.placed]: { step: 'fulfilment_placed', then: 'complete' },
  [FulfilmentEvents.failed]: { step: 'placement_failed', then: 'cancel', reason: 'placement_failed' },
} as const satisfies Record<string, SagaRule>;

/** The event types the order service consumes. */
export type SagaEventType = keyof typeof SAGA_STEPS;

/** The transition a saga event makes from the order's current state (undefined: no such order). */
export function sagaTransition(type: SagaEventType, order: Order | undefined): SagaTransition | undefined {
  if (!order) return undefined;
  const rule: SagaRule = SAGA_STEPS[type];
  const unchanged = { status: order.status, reason: order.reason };
  const expectedAfterFinal = rule.then === 'record' && rule.expectedAfterFinal === true;
  if (order.status !== 'PENDING' && !expectedAfterFinal) {
    return { outcome: 'after_final', ...unchanged, entries: [{ step: rule.step, after_final: true }] };
  }
  switch (rule.then) {
    case 'record':
      return { outcome: 'recorded', ...unchanged, entries: [{ step: rule.step }] };
    case 'complete':
      return {
        outcome: 'completed',
        status: 'COMPLETED',
        reason: null,
        entries: [{ step: rule.step }, { step: 'completed' }],
        event: orderCompleted(order),
      };
    case 'cancel':
      return {
        outcome: 'cancelled',
        status: 'CANCELLED',
        reason: rule.reason,
        entries: [{ step: 'cancelled', reason: rule.reason }],
        event: orderCancelled(order, rule.reason),
      };
  }
}
