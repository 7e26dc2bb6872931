import type { SagaStep as ReportedStep } from '@platform/contracts';
import type { CancellationReason, OrderItem } from './order.js';

/**
 * A step the other services report (SPEC §2), by the name the timeline shows it under. `refunded` is in
 * histories recorded before issue 21, when the order service still consumed payment.refunded.
 */
export type SagaStep = ReportedStep | 'refunded';

/**
 * One change of an order, as its history keeps it (decided by `order-state-machine.ts`, stamped and
 * numbered by the database when appended). The order row is the fold of these (`evolve`).
 * - `placed`: accepted, with what the customer asked for (items not yet priced);
 * - `priced`: the customer's name, the items with names and prices, the total;
 * - a saga step: what another service reported, with what it reported (the charge, the placement, …) and
 *   when it happened there (`reportedAt`, ISO 8601: the history's `at`; the commit's time otherwise);
 *   `after_final` when the order was already final (acted on no further);
 * - `completed` / `cancelled` (with its reason): the order is final.
 */
export type HistoryChange =
  | {
      step: 'placed';
      data: { user_id: string; items: OrderItem[]; requested_total_amount: number | null };
    }
  | { step: 'priced'; data: { customer_fullname: string; items: OrderItem[]; total_amount: number } }
  | { step: SagaStep; after_final?: true; data?: Record<string, unknown>; reportedAt?: string }
  | { step: 'completed' }
  | { step: 'cancelled'; reason: CancellationReason };

/** The step names of the history, each once. */
export type HistoryStep = HistoryChange['step'];

/** A change as stored: its place in the order's history (1, 2, …), when, and the event that caused it. */
export type HistoryEntry = HistoryChange & {
  position: number;
  at: Date;
  /** The id of the integration event that reported it (saga steps), or null. */
  event_id: string | null;
};
