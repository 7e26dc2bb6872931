import { context, type Context } from '@opentelemetry/api';

/**
 * The trace each saga instance continues in a transaction that serves several at once (a batch of events,
 * a group commit), by correlation id, keyed weakly by the transaction object.
 */
const tracesByTransaction = new WeakMap<object, Map<string, Context>>();

/**
 * Records, for the rest of `trx`, the trace each correlation id's writes continue: the outbox rows appended
 * for it and the work rows created for it carry that context rather than the active one (a batch's span).
 * A later call for the same correlation id replaces its entry (the next round of a batch).
 */
export function bindCorrelationTraces(trx: object, traces: Iterable<readonly [string, Context]>): void {
  let bound = tracesByTransaction.get(trx);
  if (!bound) {
    bound = new Map();
    tracesByTransaction.set(trx, bound);
  }
  for (const [correlationId, trace] of traces) bound.set(correlationId, trace);
}

/** The trace a correlation id's writes continue in `trx`: the one bound for it, or else the active context. */
export function correlationTrace(trx: object, correlationId: string): Context {
  return tracesByTransaction.get(trx)?.get(correlationId) ?? context.active();
}
