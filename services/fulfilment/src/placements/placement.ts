import type { OrderSnapshot } from '@platform/contracts';

/** A placement a worker took: what one attempt needs. */
export interface LeasedPlacement {
  order_id: string;
  order: OrderSnapshot;
  /** When it was due: after `deadline_at` only for a look-up retried after the deadline. */
  next_attempt_at: Date;
  deadline_at: Date;
}

/** What the handlers and the worker did for an order; expected outcomes are values, not errors. */
export type PlacementOutcome =
  | 'placing'
  | 'cancelled'
  | 'cancelled_before_payment'
  | 'placed'
  | 'retry_scheduled'
  | 'failed'
  | 'placed_after_cancellation'
  | 'nothing_to_do';

/**
 * Whether this attempt may only ask the partner about the order. Placing is retried only while the retry
 * comes by the deadline, so a placement due after its deadline is a look-up being retried, and past the
 * deadline an order is never sent anew.
 */
export function isLookUpOnly(placement: LeasedPlacement): boolean {
  return placement.next_attempt_at.getTime() > placement.deadline_at.getTime();
}
