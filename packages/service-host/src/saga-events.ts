import type { Context } from '@opentelemetry/api';
import type { Transaction } from 'kysely';
import type { EventEnvelope } from '@platform/contracts';
import { claimEvents } from '@platform/inbox';
import type { BatchHandler, EventResult } from '@platform/messaging';
import type { Logger } from '@platform/observability';
import { bindCorrelationTraces } from '@platform/outbox';
import type { Transact } from './service-host.js';

/**
 * A saga event as a service applies it: the envelope, already checked against its type's schema at the
 * consumer's edge (so `TEvent` is typically a union of `EventOf<…>`, discriminated by `type`), its logger
 * and the context of its processing span (in its saga instance's trace).
 */
export interface SagaEvent<TEvent extends EventEnvelope = EventEnvelope> {
  envelope: TEvent;
  logger: Logger;
  traceContext: Context;
}

/**
 * The event types a service handles and the handler for a batch of them: what `ServiceHost.consume`
 * takes, and checks against the service's subscriptions before it starts.
 */
export interface EventHandlers<TEvent extends EventEnvelope = EventEnvelope> {
  types: readonly TEvent['type'][];
  handle: BatchHandler<TEvent>;
}

/** What applying one event came to; `outcome` is what its log line says (`reserved`, `duplicate`, …). */
export interface Applied {
  outcome: string;
}

/**
 * How a service applies the events of its queue, in the shape of a decider (issue 21): `load` locks and
 * reads what deciding needs for the saga instances of a round (events with distinct correlation ids), `apply` decides each
 * event against it in memory and gives its writes to `commitWith`, returning one result per event in the
 * same correlation id. `load` leaves in one round trip with BEGIN and the inbox claim, the writes with COMMIT: a
 * batch of events costs two round trips, whatever its size.
 */
export interface SagaEventRules<Database, TEvent extends EventEnvelope, State, Result extends Applied> {
  /**
   * Locks and reads the state of the round's saga instances. It may be given events the inbox then finds to be
   * duplicates (the claim and the reads leave together): it only reads.
   */
  load(trx: Transaction<Database>, events: readonly SagaEvent<TEvent>[]): Promise<State>;
  /** Decides the events (no duplicates among them) and sends the writes with `commitWith`; no awaiting. */
  apply(trx: Transaction<Database>, events: readonly SagaEvent<TEvent>[], state: State): Result[];
}

/** How a service applies the events of its queue. */
export interface SagaEventsOptions<
  Database,
  TEvent extends EventEnvelope,
  State,
  Result extends Applied,
> extends SagaEventRules<Database, TEvent, State, Result> {
  /** The service's transaction runner (its outbox rows are published right after commit). */
  transact: Transact<Database>;
  /** The inbox's consumer name. */
  consumer: string;
  /**
   * The event types `apply` handles (typically the keys of the service's table of decisions, one per
   * type); the service refuses to start unless they are exactly its subscriptions.
   */
  types: readonly TEvent['type'][];
  /** Runs once the batch committed, with every event it applied (not the duplicates): nudges, log lines. */
  afterCommit?: (applied: readonly { event: SagaEvent<TEvent>; result: Result }[]) => void;
  /** The service's logger: one debug line per event handled, when debug is on. */
  logger: Logger;
}

const OK: EventResult = { ok: true };

/**
 * The consumer side of every saga service: a batch of deliveries is applied in one transaction with their
 * inbox rows (a duplicate, within the batch or from before, does nothing), in rounds that hold at most one
 * event per correlation id, so that the events of one instance apply one after the other, as they arrived. The inbox
 * claim and the first round's `load` leave together with BEGIN; each round's writes go with the next
 * round's `load`, the last with COMMIT. If the batch fails, its events are applied again one by one, each
 * in its own transaction: the event that failed is retried alone, the others are not held back by it.
 */
export function handleSagaEvents<Database, TEvent extends EventEnvelope, State, Result extends Applied>(
  options: SagaEventsOptions<Database, TEvent, State, Result>,
): EventHandlers<TEvent> {
  type Event = SagaEvent<TEvent>;

  async function applyTogether(events: readonly Event[]): Promise<void> {
    const applied = await options.transact(async (trx) => {
      const claim = claimEvents(
        trx,
        options.consumer,
        events.map((event) => event.envelope),
      );
      let fresh: Set<string> | undefined;
      const done: { event: Event; result: Result }[] = [];
      for (const round of rounds(events, (event) => event.envelope.correlation_id)) {
        // A round holds one event per correlation id: what it writes for one continues that event's trace.
        bindCorrelationTraces(
          trx,
          round.map((event) => [event.envelope.correlation_id, event.traceContext] as const),
        );
        const loading = options.load(trx, round);
        const [claimed, state] = await Promise.all([fresh ?? claim, loading]);
        fresh = claimed;
        // `delete` makes a second copy of an event within the batch a duplicate of the first.
        const todo = round.filter((event) => claimed.delete(event.envelope.id));
        if (todo.length === 0) continue;
        const results = options.apply(trx, todo, state);
        todo.forEach((event, i) => {
          const result = results[i];
          if (!result) throw new Error(`${event.envelope.type} ${event.envelope.id} got no result`);
          done.push({ event, result });
        });
      }
      return done;
    });
    // Checked first: an event's logger is made on first use, and most events log nothing.
    if (options.logger.isLevelEnabled('debug')) {
      const appliedEvents = new Set(applied.map(({ event }) => event));
      for (const event of events) {
        if (!appliedEvents.has(event))
          event.logger.debug({ outcome: 'duplicate' }, `${event.envelope.type} handled`);
      }
      for (const { event, result } of applied) {
        event.logger.debug({ outcome: result.outcome }, `${event.envelope.type} handled`);
      }
    }
    options.afterCommit?.(applied);
  }

  const handle: BatchHandler<TEvent> = async (consumed) => {
    const results = consumed.map(() => OK);
    const candidates = consumed.map((event: Event, index) => ({ index, event }));
    if (candidates.length === 0) return results;
    try {
      await applyTogether(candidates.map(({ event }) => event));
    } catch (error) {
      const [only] = candidates;
      if (candidates.length === 1 && only) {
        results[only.index] = { ok: false, error };
        return results;
      }
      for (const { index, event } of candidates) {
        try {
          await applyTogether([event]);
        } catch (alone) {
          results[index] = { ok: false, error: alone };
        }
      }
    }
    return results;
  };
  return { types: options.types, handle };
}

/**
 * Splits events into rounds that hold at most one event per correlation id, keeping each instance's events
 * in their arrival sequence across rounds: an instance's second event is in the second round, and so on.
 */
export function rounds<T>(items: readonly T[], orderIdOf: (item: T) => string): T[][] {
  const seen = new Map<string, number>();
  const result: T[][] = [];
  for (const item of items) {
    const orderId = orderIdOf(item);
    const round = seen.get(orderId) ?? 0;
    seen.set(orderId, round + 1);
    (result[round] ??= []).push(item);
  }
  return result;
}
