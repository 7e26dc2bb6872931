import type { Transaction } from 'kysely';
import type { OrderDatabase } from '../database.js';
import { applyOrderInputs } from '../orders/apply-order-inputs.js';
import type { Order } from '../orders/order.js';
import type { OrderInput, OrderTransition } from '../orders/order-state-machine.js';
import type { EnrichmentOutcome, FinalVerdict } from './enrich-order.js';

/** An order's verdict to record. */
export interface VerdictToRecord {
  order: Order;
  verdict: FinalVerdict;
}

const toInput = (verdict: FinalVerdict): OrderInput =>
  verdict.kind === 'priced'
    ? {
        kind: 'price',
        customerFullname: verdict.customerFullname,
        items: verdict.items,
        totalAmount: verdict.totalAmount,
      }
    : { kind: 'reject', reason: verdict.reason };

/**
 * Records the verdicts of several orders in one transaction (a group commit): priced orders with their
 * `order.created`, refused ones with their `order.cancelled`. The orders are locked and read again, and the
 * state machine decides: an order priced by another lease, or cancelled meanwhile, is settled once.
 */
export async function recordVerdicts(
  trx: Transaction<OrderDatabase>,
  verdicts: readonly VerdictToRecord[],
): Promise<{ outcomes: EnrichmentOutcome[]; transitions: OrderTransition[] }> {
  const transitions = await applyOrderInputs(
    trx,
    verdicts.map(({ order, verdict }) => ({ orderId: order.id, input: toInput(verdict) })),
  );
  const outcomes = verdicts.map(({ verdict }, i): EnrichmentOutcome => {
    if (transitions[i]?.decision.outcome === 'unchanged' || !transitions[i]) return 'already_settled';
    return verdict.kind === 'priced' ? 'priced' : verdict.reason;
  });
  return { outcomes, transitions: transitions.filter((t) => t !== undefined) };
}
