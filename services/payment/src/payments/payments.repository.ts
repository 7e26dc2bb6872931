import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { captureTraceContext } from '@platform/observability';
import { correlationTrace } from '@platform/outbox';
import { leaseRows, releaseLeasedRows, type LeasedTable } from '@platform/postgres';
import type { PaymentDatabase, PaymentsTable } from '../database.js';
import type { LeasedPayment, Payment, PaymentChange, PaymentState } from './payment.js';

type Db = Kysely<PaymentDatabase>;
type Trx = Transaction<PaymentDatabase>;

/** The order's payment row, if any event about it was handled. */
export async function findPayment(db: Db, orderId: string): Promise<Payment | undefined> {
  return db.selectFrom('payments').selectAll().where('order_id', '=', orderId).executeTakeFirst();
}

/**
 * Locks the payments of these orders (in a fixed order) and returns them by order id, each with whether a
 * worker's lease on it still runs (by the database's clock, the one leases are written with). A locked
 * row is skipped by the lease query, so no worker takes it while the caller decides.
 */
export async function lockPayments(
  trx: Trx,
  orderIds: readonly string[],
): Promise<Map<string, PaymentState>> {
  const result = await sql<Selectable<PaymentsTable> & { leased: boolean }>`
    SELECT *, coalesce(lease_until > now(), false) AS leased FROM payments
     WHERE order_id = ANY(${orderIds}::text[]) ORDER BY order_id FOR UPDATE`.execute(trx);
  return new Map(result.rows.map(({ leased, ...payment }) => [payment.order_id, { payment, leased }]));
}

/**
 * Writes the payments' changes: new rows in one statement, changed ones in another. `leaseMs` is how
 * long a lease taken now lasts.
 */
export async function savePayments(
  trx: Trx,
  changes: ReadonlyMap<string, PaymentChange>,
  leaseMs: number,
): Promise<void> {
  const entries = [...changes];
  const inserts = entries.flatMap(([orderId, change]) =>
    change.kind === 'insert' ? [{ orderId, change }] : [],
  );
  const updates = entries.flatMap(([orderId, change]) =>
    change.kind === 'update' ? [{ orderId, change }] : [],
  );
  const column = <T>(rows: { change: PaymentChange }[], pick: (change: PaymentChange) => T) =>
    rows.map(({ change }) => pick(change));
  const lease = (change: PaymentChange) => change.write.lease ?? null;
  // The trace the worker's calls for a row continue (see migrations/003_trace_context.sql).
  const traceOf = (rows: { orderId: string }[]) =>
    rows.map(({ orderId }) => {
      const carrier = captureTraceContext(correlationTrace(trx, orderId));
      return carrier && JSON.stringify(carrier);
    });
  const due = (change: PaymentChange) => change.write.dueInMs ?? null;
  // Both statements are sent at once (not one after the other's answer): they may ride with a COMMIT.
  const statements: Promise<unknown>[] = [];
  if (inserts.length > 0) {
    statements.push(
      sql`
      INSERT INTO payments (order_id, status, amount, order_snapshot, cancel_requested, attempts,
                            refund_attempts, next_attempt_at, lease_until, trace_context, steps)
      SELECT c.order_id, c.status, c.amount, c.order_snapshot, c.cancel_requested, c.attempts, c.refund_attempts,
             now() + coalesce(c.due_in_ms, 0) * interval '1 millisecond',
             CASE WHEN c.lease = 'take' THEN now() + ${leaseMs} * interval '1 millisecond' END, c.trace_context,
             c.steps
        FROM unnest(
          ${inserts.map((row) => row.orderId)}::text[],
          ${column(inserts, (c) => c.write.status)}::text[],
          ${column(inserts, (c) => (c.kind === 'insert' ? c.amount : null))}::numeric[],
          ${column(inserts, (c) => (c.kind === 'insert' ? JSON.stringify(c.order) : null))}::jsonb[],
          ${column(inserts, (c) => c.write.cancel_requested)}::boolean[],
          ${column(inserts, (c) => c.write.attempts)}::int[],
          ${column(inserts, (c) => c.write.refund_attempts)}::int[],
          ${column(inserts, due)}::float8[],
          ${column(inserts, lease)}::text[],
          ${traceOf(inserts)}::json[],
          ${column(inserts, (c) => JSON.stringify(c.kind === 'insert' ? c.steps : []))}::jsonb[])
          AS c(order_id, status, amount, order_snapshot, cancel_requested, attempts, refund_attempts, due_in_ms, lease,
               trace_context, steps)`.execute(trx),
    );
  }
  if (updates.length > 0) {
    statements.push(
      sql`
      UPDATE payments p SET
        status = c.status,
        cancel_requested = c.cancel_requested,
        attempts = c.attempts,
        refund_attempts = c.refund_attempts,
        charge_id = c.charge_id,
        refund_id = c.refund_id,
        last_error = c.last_error,
        next_attempt_at = CASE WHEN c.due_in_ms IS NULL THEN p.next_attempt_at
                               ELSE now() + c.due_in_ms * interval '1 millisecond' END,
        lease_until = CASE c.lease WHEN 'take' THEN now() + ${leaseMs} * interval '1 millisecond'
                                   WHEN 'release' THEN NULL ELSE p.lease_until END,
        -- New work (money to give back) continues the trace of what asked for it; a retry, the first's.
        trace_context = CASE WHEN c.status = 'refunding' AND p.status <> 'refunding'
                             THEN coalesce(c.trace_context, p.trace_context) ELSE p.trace_context END,
        updated_at = now()
      FROM unnest(
        ${updates.map((row) => row.orderId)}::text[],
        ${column(updates, (c) => c.write.status)}::text[],
        ${column(updates, (c) => c.write.cancel_requested)}::boolean[],
        ${column(updates, (c) => c.write.attempts)}::int[],
        ${column(updates, (c) => c.write.refund_attempts)}::int[],
        ${column(updates, (c) => c.write.charge_id)}::text[],
        ${column(updates, (c) => c.write.refund_id)}::text[],
        ${column(updates, (c) => c.write.last_error)}::text[],
        ${column(updates, due)}::float8[],
        ${column(updates, lease)}::text[],
        ${traceOf(updates)}::json[])
        AS c(order_id, status, cancel_requested, attempts, refund_attempts, charge_id, refund_id, last_error,
             due_in_ms, lease, trace_context)
      WHERE p.order_id = c.order_id`.execute(trx),
    );
  }
  await Promise.all(statements);
}

/** A gateway call to add to a payment's history. */
export interface AttemptRecord {
  orderId: string;
  step: 'charge' | 'refund' | 'settle_cancelled';
  outcome: string;
  error: string | null;
  reference: string | null;
}

/** Appends gateway calls to their payments' histories, in one statement. */
export async function appendAttempts(trx: Trx, attempts: readonly AttemptRecord[]): Promise<void> {
  if (attempts.length === 0) return;
  await sql`
    INSERT INTO payment_attempts (order_id, step, outcome, error, reference, at)
    SELECT *, clock_timestamp() FROM unnest(
      ${attempts.map((a) => a.orderId)}::text[], ${attempts.map((a) => a.step)}::text[],
      ${attempts.map((a) => a.outcome)}::text[], ${attempts.map((a) => a.error)}::text[],
      ${attempts.map((a) => a.reference)}::text[])`.execute(trx);
}

/** A payment's gateway calls, oldest first. */
export async function findAttempts(db: Db, orderId: string) {
  return db
    .selectFrom('payment_attempts')
    .select(['step', 'outcome', 'error', 'reference', 'at'])
    .where('order_id', '=', orderId)
    .orderBy('position')
    .execute();
}

/** Payments are leased to the payment worker through `lease_until`. */
const PAYMENT_LEASES: LeasedTable = {
  table: 'payments',
  key: 'order_id',
  keyType: 'text',
  leaseColumn: 'lease_until',
};

/**
 * Leases up to `limit` due payments that no live lease holds, most overdue first (see `leaseRows`), and
 * counts the attempt each is leased for: a charge in `attempts`; a refund or the settling of a cancelled
 * charge in `refund_attempts`.
 */
export async function leaseDuePayments(db: Db, limit: number, leaseMs: number): Promise<LeasedPayment[]> {
  return leaseRows<LeasedPayment, PaymentDatabase>(db, PAYMENT_LEASES, {
    due: sql`status IN ('charging', 'refunding') AND next_attempt_at <= now()`,
    orderBy: sql`next_attempt_at`,
    limit,
    leaseMs,
    alsoSet: sql`
      attempts = attempts + CASE WHEN status = 'charging' AND NOT cancel_requested THEN 1 ELSE 0 END,
      refund_attempts = refund_attempts + CASE WHEN status = 'refunding' OR cancel_requested THEN 1 ELSE 0 END`,
    returning: sql`order_id, status, amount, cancel_requested, attempts, refund_attempts, trace_context`,
  });
}

/** Gives leased payments back at once (a worker stopping), so another takes them without waiting. */
export async function releaseLeases(db: Db, orderIds: readonly string[]): Promise<void> {
  await releaseLeasedRows(db, PAYMENT_LEASES, orderIds);
}
