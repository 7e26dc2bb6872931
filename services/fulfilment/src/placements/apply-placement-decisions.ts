import type { Transaction } from 'kysely';
import {
  OrderEvents,
  PaymentEvents,
  type EventEnvelope,
  type OrderSnapshot,
  type SubscribedEvent,
} from '@platform/contracts';
import { captureTraceContext } from '@platform/observability';
import { appendToOutbox, correlationTrace } from '@platform/outbox';
import { commitWith, lockKeys } from '@platform/postgres';
import { rounds, type SagaEvent } from '@platform/service-host';
import type { FulfilmentDatabase } from '../database.js';
import {
  cancelPlacement,
  recordAttempt,
  startPlacement,
  type AttemptResult,
  type LeasedPlacement,
  type Placement,
  type PlacementChange,
  type PlacementDecision,
  type PlacementOutcome,
} from './placement.js';
import { appendAttempts, lockPlacements, savePlacements } from './placements.repository.js';

type Trx = Transaction<FulfilmentDatabase>;

/** What an event or a result came to, and the placement to hand to this instance's worker, if any. */
export interface PlacementApplied {
  outcome: PlacementOutcome;
  handOff?: LeasedPlacement;
}

/** An event fulfilment consumes (SPEC §2), checked against its schema. */
export type PlacementEvent = SagaEvent<SubscribedEvent<'fulfilment'>>;

/**
 * The events fulfilment applies, each with its decision: its handlers, one per subscribed type.
 * payment.processed starts a placement (given up at `deadlineAt`), order.cancelled stops one.
 */
const DECISIONS: {
  [T in PlacementEvent['envelope']['type']]: (
    event: Extract<PlacementEvent['envelope'], { type: T }>,
    placement: Placement | undefined,
    deadlineAt: Date,
  ) => PlacementDecision;
} = {
  [PaymentEvents.processed]: (event, placement, deadlineAt) =>
    startPlacement(event.payload.order, placement, deadlineAt, event.payload.steps),
  [OrderEvents.cancelled]: (event, placement) => cancelPlacement(event.payload.order, placement),
};

/** The decision of the event's own handler. */
function decide(event: PlacementEvent['envelope'], placement: Placement | undefined, deadlineAt: Date) {
  // TypeScript cannot correlate a handler's parameter with the event's type (microsoft/TypeScript#30581).
  const handler = DECISIONS[event.type] as (
    event: PlacementEvent['envelope'],
    placement: Placement | undefined,
    deadlineAt: Date,
  ) => PlacementDecision;
  return handler(event, placement, deadlineAt);
}

/** The event types fulfilment handles: the service starts only if they are its subscriptions. */
export const PLACEMENT_EVENT_TYPES = Object.keys(DECISIONS) as (keyof typeof DECISIONS)[];

/** Locks the orders (their keys, then their placement rows) and reads their placements, in one round trip. */
export async function loadPlacements(trx: Trx, orderIds: readonly string[]): Promise<Map<string, Placement>> {
  const [, placements] = await Promise.all([lockKeys(trx, orderIds), lockPlacements(trx, orderIds)]);
  return placements;
}

/**
 * Applies a round of events (one per order) against their placements (`loadPlacements`):
 * payment.processed starts a placement (leased to this instance, handed to its worker at commit, given up
 * `deadlineMs` from now), order.cancelled stops one; the writes go with the COMMIT.
 */
export function applyPlacementEvents(
  trx: Trx,
  events: readonly PlacementEvent[],
  placements: ReadonlyMap<string, Placement>,
  settings: { deadlineMs: number; leaseMs: number },
): PlacementApplied[] {
  const deadlineAt = new Date(Date.now() + settings.deadlineMs);
  return applyPlacementDecisions(
    trx,
    events.map((event) => event.envelope.payload.order),
    placements,
    settings.leaseMs,
    (placement, i) => decide((events[i] as PlacementEvent).envelope, placement, deadlineAt),
  );
}

/** A worker's attempt to record: the placement as it leased it, and what came of the call. */
export interface AttemptToRecord {
  leased: LeasedPlacement;
  result: AttemptResult;
}

/**
 * Records the results of several workers' attempts in one transaction (a group commit), in two round trips
 * (the placements locked and read, then the changes, calls and events with the COMMIT); two results for
 * one placement (a second worker after an expired lease) are applied one after the other.
 */
export async function recordAttempts(
  trx: Trx,
  attempts: readonly AttemptToRecord[],
  leaseMs: number,
): Promise<PlacementApplied[]> {
  const applied = new Map<AttemptToRecord, PlacementApplied>();
  const at = new Date().toISOString();
  for (const round of rounds(attempts, (attempt) => attempt.leased.order_id)) {
    const results = applyPlacementDecisions(
      trx,
      round.map((attempt) => attempt.leased.order),
      await loadPlacements(
        trx,
        round.map((attempt) => attempt.leased.order_id),
      ),
      leaseMs,
      (placement, i) => {
        const attempt = round[i] as AttemptToRecord;
        return recordAttempt(attempt.leased.order, placement, attempt.result, at);
      },
    );
    round.forEach((attempt, i) => applied.set(attempt, results[i] as PlacementApplied));
  }
  commitWith(
    trx,
    appendAttempts(
      trx,
      attempts.map(({ leased, result }) => ({
        orderId: leased.order_id,
        outcome: result.kind,
        error: result.kind === 'placed' ? null : result.error,
        placementId: result.kind === 'placed' ? result.placementId : null,
      })),
    ),
  );
  return attempts.map((attempt) => applied.get(attempt) as PlacementApplied);
}

/**
 * The shape of every fulfilment use case once the placements are loaded (`loadPlacements`): decide each in
 * memory, send the changes and the events with the COMMIT, and say which placements this instance now
 * holds.
 */
function applyPlacementDecisions(
  trx: Trx,
  orders: readonly OrderSnapshot[],
  placements: ReadonlyMap<string, Placement>,
  leaseMs: number,
  decide: (placement: Placement | undefined, index: number) => PlacementDecision,
): PlacementApplied[] {
  const changes = new Map<string, PlacementChange>();
  const outgoing: EventEnvelope[] = [];
  const now = new Date();
  const applied = orders.map((order, i): PlacementApplied => {
    const decision = decide(placements.get(order.order_id), i);
    if (decision.event) outgoing.push(decision.event);
    const { change } = decision;
    if (change) changes.set(order.order_id, change);
    if (change?.kind !== 'insert' || !change.lease || !change.deadlineAt)
      return { outcome: decision.outcome };
    return {
      outcome: decision.outcome,
      handOff: {
        order_id: order.order_id,
        trace_context: captureTraceContext(correlationTrace(trx, order.order_id)),
        order,
        attempts: 1,
        next_attempt_at: now,
        deadline_at: change.deadlineAt,
      },
    };
  });
  commitWith(trx, savePlacements(trx, changes, leaseMs), appendToOutbox(trx, outgoing));
  return applied;
}
