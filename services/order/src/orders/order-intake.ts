import { randomUUID } from 'node:crypto';
import { context, trace, type Context } from '@opentelemetry/api';
import {
  BrokenCircuitError,
  circuitBreaker,
  ConsecutiveBreaker,
  handleType,
  TaskCancelledError,
  timeout,
  TimeoutStrategy,
  wrap,
} from 'cockatiel';
import type { Transaction } from 'kysely';
import { createGroupCommit, GroupCommitFull, type GroupCommitOptions } from '@platform/group-commit';
import { captureTraceContext, inBatchSpan } from '@platform/observability';
import { commitWith } from '@platform/postgres';
import type { Transact } from '@platform/service-host';
import type { OrderDatabase } from '../database.js';
import type { AdmissionControl } from './admission-control.js';
import type { Order, PlaceOrderCommand } from './order.js';
import {
  findOrdersByIdempotencyKeys,
  insertOrders,
  type NewOrderRow,
  type StoredOrder,
} from './orders.repository.js';

/** A new order to store, with the identity of the request when the client gave an Idempotency-Key. */
export interface IntakeRequest {
  command: PlaceOrderCommand;
  idempotencyKey: string | null;
  requestHash: string | null;
  /** The request's trace (its server span): the order's saga continues it. */
  traceContext?: Context;
}

const tracer = trace.getTracer('@services/order');

/** The order a request created, or the one that already holds its idempotency key. */
export type IntakeOutcome = { kind: 'created'; order: Order } | { kind: 'key_taken'; owner: StoredOrder };

/**
 * What became of a request: stored (or found by its key), or nothing because too many requests
 * already wait for their transaction (nothing was stored).
 */
export type IntakeResult = IntakeOutcome | { kind: 'overloaded' };

/**
 * Stores new orders; concurrent calls share one transaction, and each resolves only after its commit.
 * @throws IntakeTimeoutError when the commit has not come within the intake's `timeoutMs`, or at once for
 *   a second after that happened (nothing sent then)
 */
export type OrderIntake = (request: IntakeRequest) => Promise<IntakeResult>;

/**
 * The order's transaction was not answered in time: PostgreSQL hangs (a frozen server, a peer gone without
 * a reset, a full pool). The caller answers `500`, as for any failure of its own (SPEC §5, seed 001); the
 * order may still be committed once PostgreSQL answers, as with any answer lost on the way, which a retry
 * with the same Idempotency-Key resolves.
 */
export class IntakeTimeoutError extends Error {
  readonly code = 'INTAKE_TIMEOUT';
  /** `unsent`: refused without trying, since a commit just before was not answered (nothing stored). */
  constructor(timeoutMs: number, unsent = false) {
    super(
      unsent
        ? `PostgreSQL did not answer an order's transaction within ${timeoutMs} ms a moment ago: this order was not sent`
        : `the order's transaction was not answered within ${timeoutMs} ms`,
    );
    this.name = 'IntakeTimeoutError';
  }
}

/** Where new orders go once stored: enrichment, leased to this instance for `leaseMs`. */
export interface EnrichmentHandOff {
  leaseMs: number;
  submit(orders: readonly Order[]): void;
}

/**
 * The group commit of `POST /orders`: the orders of concurrent requests, each with the first entry of its
 * history (`placed`: SPEC §4.1's first event, in the same transaction), are stored in one transaction of
 * one round trip. With `enrichment`, the new orders are leased to this instance's pricing worker in that
 * same transaction and handed to it once committed: no poll between intake and pricing, and no message
 * (the order row itself is the work). Each order keeps its request's trace; a transaction for several is a
 * span linked to each of them.
 */
export function createOrderIntake(
  transact: Transact<OrderDatabase>,
  { timeoutMs, ...options }: GroupCommitOptions & { timeoutMs?: number },
  enrichment?: EnrichmentHandOff,
  admission?: Pick<AdmissionControl, 'placed'>,
): OrderIntake {
  const intake = createGroupCommit<IntakeRequest, IntakeOutcome>(async (requests) => {
    const results = await inBatchSpan(
      tracer,
      'store orders',
      requests.map((request) => request.traceContext ?? context.active()),
      async () => {
        // Returned unawaited: the statements go with the COMMIT, their answers are read once it is done.
        const { stored } = await transact(async (trx) => ({
          stored: storeNewOrders(trx, requests, enrichment?.leaseMs),
        }));
        return stored;
      },
    );
    const created = results.flatMap((result) => (result.kind === 'created' ? [result.order] : []));
    admission?.placed(created.length);
    enrichment?.submit(created);
    return results;
  }, options);
  const store = (request: IntakeRequest): Promise<IntakeResult> =>
    intake
      .submit({ ...request, traceContext: request.traceContext ?? context.active() })
      .catch((error: unknown): IntakeResult => {
        if (error instanceof GroupCommitFull) return { kind: 'overloaded' };
        throw error;
      });
  if (timeoutMs === undefined) return store;
  // Once a commit was not answered in time, PostgreSQL hangs: the requests after it are answered at once
  // for a second, instead of each waiting out the timeout while more arrive (measured in the chaos run's
  // freeze: 50 orders/s on 64 pooled connections, each held 3 s, left 196 requests unanswered after 10 s);
  // then one goes through to see whether it answers again (cockatiel's half-open state).
  const breaker = circuitBreaker(handleType(TaskCancelledError), {
    halfOpenAfter: 1_000,
    breaker: new ConsecutiveBreaker(1),
  });
  // Aggressive: the caller is answered at the deadline; the transaction itself goes on (its client's own
  // query timeout is longer: it must let the slowest legitimate statement finish).
  const policy = wrap(breaker, timeout(timeoutMs, TimeoutStrategy.Aggressive));
  return async (request) => {
    try {
      return await policy.execute(() => store(request));
    } catch (error) {
      if (error instanceof TaskCancelledError) throw new IntakeTimeoutError(timeoutMs);
      if (error instanceof BrokenCircuitError) throw new IntakeTimeoutError(timeoutMs, true);
      throw error;
    }
  };
}

function compareKeys(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

/**
 * Stores new orders with the caller's COMMIT (`commitWith`): the orders, their `placed` history entries
 * and, when some requests carry idempotency keys, the orders that already held those keys, in statements
 * that leave with the COMMIT. The result resolves once they are answered; await it only after the
 * transaction (awaiting it inside costs a round trip before the COMMIT). `enrichmentLeaseMs` leases the
 * new orders to the caller's pricing worker.
 */
export function storeNewOrders(
  trx: Transaction<OrderDatabase>,
  requests: readonly IntakeRequest[],
  enrichmentLeaseMs?: number,
): Promise<IntakeOutcome[]> {
  const rows: NewOrderRow[] = requests.map((request) => ({
    id: randomUUID(),
    traceContext: captureTraceContext(request.traceContext),
    userId: request.command.userId,
    items: request.command.items.map((item) => ({
      product_code: item.productCode,
      quantity: item.quantity,
      product_name: null,
      unit_price: null,
    })),
    requestedTotal: request.command.requestedTotal,
    idempotencyKey: request.idempotencyKey,
    requestHash: request.requestHash,
  }));

  // Rows go in idempotency-key order, so two batches that share keys take their locks in the same
  // order and wait for each other instead of deadlocking.
  const insertOrder = [...rows].sort((a, b) => compareKeys(a.idempotencyKey, b.idempotencyKey));
  const keys = rows.flatMap((row) => (row.idempotencyKey === null ? [] : [row.idempotencyKey]));
  const inserting = insertOrders(trx, insertOrder, enrichmentLeaseMs);
  // Sent after the insert, in the same transaction: a key the insert skipped belongs to a committed order
  // (ON CONFLICT waits for a concurrent one to commit) or to a row of this batch, which this finds.
  const owning = findOrdersByIdempotencyKeys(trx, keys);
  const outcomes = Promise.all([inserting, owning]).then(([inserted, taken]) => {
    const created = new Map(inserted.map((stored) => [stored.order.id, stored.order]));
    const owners = new Map(taken.map((owner) => [owner.idempotencyKey, owner]));
    return rows.map((row): IntakeOutcome => {
      const order = created.get(row.id);
      if (order) return { kind: 'created', order };
      const owner = owners.get(row.idempotencyKey);
      if (!owner) throw new Error(`order ${row.id} was neither inserted nor found by its idempotency key`);
      return { kind: 'key_taken', owner };
    });
  });
  commitWith(trx, outcomes);
  return outcomes;
}
