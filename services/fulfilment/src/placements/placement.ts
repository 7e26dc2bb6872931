import type { TraceCarrier } from '@platform/observability';
import {
  createEvent,
  FulfilmentEvents,
  type Decider,
  type EventEnvelope,
  type OrderSnapshot,
  type SagaStepRecord,
} from '@platform/contracts';

/**
 * Where an order's placement at the partner stands; `placing` is the worker's to-do list, `cancelled` a
 * stop (or a tombstone when the cancellation came before `payment.processed`).
 */
export type PlacementStatus = 'placing' | 'placed' | 'failed' | 'cancelled';

/** A placement as the use cases decide on it. */
export interface Placement {
  order_id: string;
  status: PlacementStatus;
  placement_id: string | null;
  /** The saga's steps before the placement, passed on with its own. */
  steps: SagaStepRecord[];
}

/**
 * A placement a worker holds: what one attempt needs. Attempts are counted when a placement is leased,
 * before the partner is called, so that a call that crashes its worker still counts.
 */
export interface LeasedPlacement {
  order_id: string;
  /** The trace of the event that started the placement: each attempt is a span of it. */
  trace_context: TraceCarrier | null;
  order: OrderSnapshot;
  attempts: number;
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

/** How a worker's attempt ended, to be recorded against the placement it leased. */
export type AttemptResult =
  | { kind: 'placed'; placementId: string }
  | { kind: 'retry'; error: string; delayMs: number }
  | { kind: 'failed'; error: string };

/** A placement's new state: a new row, or a change of one (with what happens to its schedule and lease). */
export type PlacementChange =
  | {
      kind: 'insert';
      order: OrderSnapshot;
      status: PlacementStatus;
      /** Absent for a cancellation's mark, which is never placed. */
      deadlineAt?: Date;
      /** Leased by this instance and handed to its worker once the transaction committed. */
      lease: boolean;
      /** The saga's steps before the placement (payment.processed's). */
      steps: SagaStepRecord[];
    }
  | {
      kind: 'update';
      status: PlacementStatus;
      placement_id: string | null;
      last_error: string | null;
      /** When the worker should try again, in ms from now; absent keeps the time it had. */
      dueInMs?: number;
      /** Whether the lease ends (the worker is done with it). */
      release: boolean;
    };

/** What one event or one attempt's result decides for a placement. */
export interface PlacementDecision {
  outcome: PlacementOutcome;
  change?: PlacementChange;
  event?: EventEnvelope;
}

const PRODUCER = 'fulfilment';

/**
 * Whether this attempt may only ask the partner about the order. Placing is retried only while the retry
 * comes by the deadline, so a placement due after its deadline is a look-up being retried, and past the
 * deadline an order is never sent anew.
 */
export function isLookUpOnly(placement: LeasedPlacement): boolean {
  return placement.next_attempt_at.getTime() > placement.deadline_at.getTime();
}

/**
 * payment.processed: starts placing the order, by this instance's worker at once (its first attempt
 * counted), given up at `deadlineAt`. Any existing row (an earlier copy of the event, or a cancellation
 * that overtook it) means there is nothing to start.
 */
export function startPlacement(
  order: OrderSnapshot,
  placement: Placement | undefined,
  deadlineAt: Date,
  steps: SagaStepRecord[] = [],
): PlacementDecision {
  if (placement) return { outcome: 'nothing_to_do' };
  return {
    outcome: 'placing',
    change: { kind: 'insert', order, status: 'placing', deadlineAt, lease: true, steps },
  };
}

/**
 * order.cancelled: stops a placement in progress. One that came before the payment leaves a mark, so the
 * payment's event then places nothing. A placed order stays placed: the partner has no cancel API.
 */
export function cancelPlacement(order: OrderSnapshot, placement: Placement | undefined): PlacementDecision {
  if (!placement) {
    return {
      outcome: 'cancelled_before_payment',
      change: { kind: 'insert', order, status: 'cancelled', lease: false, steps: [] },
    };
  }
  if (placement.status !== 'placing') return { outcome: 'nothing_to_do' };
  return {
    outcome: 'cancelled',
    change: { kind: 'update', status: 'cancelled', placement_id: null, last_error: null, release: true },
  };
}

/**
 * Records an attempt's result on a placement still in progress; one cancelled meanwhile (or settled by a
 * second worker after an expired lease) changes nothing, except that a placement the partner accepted
 * after the order was cancelled keeps the partner's reference (the partner has no cancel API). The events
 * carry the saga's steps so far and this one (`fulfilment_placed`, `placement_failed`), at `at` (ISO 8601).
 */
export function recordAttempt(
  order: OrderSnapshot,
  placement: Placement | undefined,
  result: AttemptResult,
  at: string,
): PlacementDecision {
  if (placement?.status !== 'placing') {
    if (result.kind === 'placed' && placement?.status === 'cancelled' && placement.placement_id === null) {
      return {
        outcome: 'placed_after_cancellation',
        change: {
          kind: 'update',
          status: 'cancelled',
          placement_id: result.placementId,
          last_error: null,
          release: true,
        },
      };
    }
    return { outcome: 'nothing_to_do' };
  }
  switch (result.kind) {
    case 'placed':
      return {
        outcome: 'placed',
        change: {
          kind: 'update',
          status: 'placed',
          placement_id: result.placementId,
          last_error: null,
          release: true,
        },
        event: createEvent(FulfilmentEvents.placed, PRODUCER, {
          order,
          placement: { placement_id: result.placementId },
          steps: [
            ...placement.steps,
            { step: 'fulfilment_placed', at, data: { placement_id: result.placementId } },
          ],
        }),
      };
    case 'retry':
      return {
        outcome: 'retry_scheduled',
        change: {
          kind: 'update',
          status: 'placing',
          placement_id: null,
          last_error: result.error,
          dueInMs: result.delayMs,
          release: true,
        },
      };
    case 'failed':
      return {
        outcome: 'failed',
        change: {
          kind: 'update',
          status: 'failed',
          placement_id: null,
          last_error: result.error,
          release: true,
        },
        event: createEvent(FulfilmentEvents.failed, PRODUCER, {
          order,
          reason: 'placement_failed',
          steps: [...placement.steps, { step: 'placement_failed', at, data: { reason: 'placement_failed' } }],
        }),
      };
  }
}

/** An event or an attempt's result, as the placement rules act on it. */
export type PlacementInput =
  /** payment.processed: place the order, by `deadlineAt`. */
  | { kind: 'start'; order: OrderSnapshot; deadlineAt: Date; steps?: SagaStepRecord[] }
  /** order.cancelled. */
  | { kind: 'cancel'; order: OrderSnapshot }
  /** A worker's attempt, recorded at `at` (ISO 8601). */
  | { kind: 'attempt'; order: OrderSnapshot; result: AttemptResult; at: string };

/** What the placement decider decides: the outcome, the change (none or one) and the event to publish. */
export type PlacementDecided = Omit<PlacementDecision, 'change'> & { changes: PlacementChange[] };

/** The rule of each input. */
function decidePlacement(placement: Placement | undefined, input: PlacementInput): PlacementDecision {
  switch (input.kind) {
    case 'start':
      return startPlacement(input.order, placement, input.deadlineAt, input.steps);
    case 'cancel':
      return cancelPlacement(input.order, placement);
    case 'attempt':
      return recordAttempt(input.order, placement, input.result, input.at);
  }
}

/**
 * The placement rules as one decider (`Decider` of `@platform/contracts`), made of `startPlacement`,
 * `cancelPlacement` and `recordAttempt`. `evolve` is the placement as the repository stores it: an insert
 * makes the row (no partner reference yet); an update sets its status and keeps the partner's reference
 * unless it brings one (the UPDATE's coalesce). The schedule, the lease and the last error are the
 * worker's, not something a decision reads: they are not in the state.
 * @throws Error from `evolve` for an insert of a placement that exists, or an update of one that does not
 *   (the repository's INSERT or UPDATE would fail or find nothing).
 */
export const placementDecider: Decider<
  Placement | undefined,
  PlacementInput,
  PlacementChange,
  PlacementDecided
> = {
  initial: undefined,
  decide: (placement, input) => {
    const { change, ...decision } = decidePlacement(placement, input);
    return { ...decision, changes: change ? [change] : [] };
  },
  evolve: (placement, change) => {
    if (change.kind === 'insert') {
      if (placement) throw new Error(`placement ${placement.order_id} is inserted twice`);
      return {
        order_id: change.order.order_id,
        status: change.status,
        placement_id: null,
        steps: change.steps,
      };
    }
    if (!placement) throw new Error('a placement is updated before it is inserted');
    return {
      ...placement,
      status: change.status,
      placement_id: change.placement_id ?? placement.placement_id,
    };
  },
};
