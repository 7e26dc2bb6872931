import type { Transaction } from 'kysely';
import type { SagaEvent } from '@platform/service-host';
import type { OrderDatabase } from '../database.js';
import { applyOrderInputs } from '../orders/apply-order-inputs.js';
import type { OrderOutcome, OrderTransition, ReportedEvent } from '../orders/order-state-machine.js';

/** What a saga event did to its order (`unknown_order`: no such order here), and the transition. */
export interface SagaApplied {
  outcome: OrderOutcome | 'unknown_order';
  /** The order's transition, for what is done after commit (log lines, metrics). */
  transition?: OrderTransition;
}

/**
 * Applies a round of the other services' events (one per order) in one transaction, through the order's
 * state machine (`applyOrderInputs`): one statement locks and reads the orders, three more write every
 * change, history entry and announced event.
 */
export async function applySagaEvents(
  trx: Transaction<OrderDatabase>,
  events: readonly SagaEvent<ReportedEvent>[],
): Promise<SagaApplied[]> {
  const transitions = await applyOrderInputs(
    trx,
    events.map(({ envelope }) => ({
      orderId: envelope.correlation_id,
      input: { kind: 'saga_event', event: envelope },
      eventId: envelope.id,
    })),
  );
  return transitions.map((t): SagaApplied =>
    t ? { outcome: t.decision.outcome, transition: t } : { outcome: 'unknown_order' },
  );
}
