import type { Transaction } from 'kysely';
import type { SagaEvent } from '@platform/service-host';
import type { OrderDatabase } from '../database.js';
import { decideOrderInputs } from '../orders/apply-order-inputs.js';
import type { Order } from '../orders/order.js';
import { lockOrders } from '../orders/orders.repository.js';
import type { OrderOutcome, OrderTransition, ReportedEvent } from '../orders/order-state-machine.js';

/** What a saga event did to its order (`unknown_order`: no such order here), and the transition. */
export interface SagaApplied {
  outcome: OrderOutcome | 'unknown_order';
  /** The order's transition, for what is done after commit (log lines, metrics). */
  transition?: OrderTransition;
}

/** Locks and reads the orders a round of events is about, in one round trip with the inbox claim. */
export function loadOrders(
  trx: Transaction<OrderDatabase>,
  events: readonly SagaEvent<ReportedEvent>[],
): Promise<Map<string, Order>> {
  return lockOrders(
    trx,
    events.map((event) => event.envelope.correlation_id),
  );
}

/**
 * Applies a round of the other services' events (one per order) through the order's state machine
 * (`decideOrderInputs`); every change, history entry and announced event goes with the COMMIT.
 */
export function applySagaEvents(
  trx: Transaction<OrderDatabase>,
  events: readonly SagaEvent<ReportedEvent>[],
  orders: ReadonlyMap<string, Order>,
): SagaApplied[] {
  const transitions = decideOrderInputs(
    trx,
    events.map(({ envelope }) => ({
      orderId: envelope.correlation_id,
      input: { kind: 'saga_event', event: envelope },
      eventId: envelope.id,
    })),
    orders,
  );
  return transitions.map((t): SagaApplied =>
    t ? { outcome: t.decision.outcome, transition: t } : { outcome: 'unknown_order' },
  );
}
