import { trace, type Context } from '@opentelemetry/api';
import type { Transaction } from 'kysely';
import { inBatchSpan } from '@platform/observability';
import { bindCorrelationTraces } from '@platform/outbox';
import type { Transact } from './service-host.js';

const tracer = trace.getTracer('@platform/service-host');

/** A saga instance (its correlation id) a shared transaction works for, and the trace it continues. */
export interface CorrelationTrace {
  correlationId: string;
  traceContext: Context;
}

/**
 * Runs `work` in one transaction on behalf of several saga instances (a group commit of requests, of
 * verdicts, of third-party answers), each continuing its own trace: what the transaction writes for one
 * correlation id (its outbox rows, its work rows) carries that instance's context, and the transaction
 * itself is a span `name` linked to each of them (or, for one, part of its trace). See `inBatchSpan`,
 * `bindCorrelationTraces`.
 * @throws whatever `work` or the transaction throws
 */
export function transactForCorrelations<Database, T>(
  transact: Transact<Database>,
  name: string,
  instances: readonly CorrelationTrace[],
  work: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  return inBatchSpan(
    tracer,
    name,
    instances.map((instance) => instance.traceContext),
    () =>
      transact((trx) => {
        bindCorrelationTraces(
          trx,
          instances.map((instance) => [instance.correlationId, instance.traceContext] as const),
        );
        return work(trx);
      }),
  );
}
