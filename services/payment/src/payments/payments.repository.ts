import { sql, type Kysely, type Transaction, type Updateable } from 'kysely';
import type { OrderSnapshot } from '@platform/contracts';
import type { PaymentDatabase, PaymentStatus, PaymentsTable } from '../database.js';
import type { LeasedPayment, Payment } from './payment.js';

type Db = Kysely<PaymentDatabase>;
type Trx = Transaction<PaymentDatabase>;

/** Fields a status change may set beside the status; timing columns go through `PaymentTiming`. */
type PaymentChanges = Pick<
  Updateable<PaymentsTable>,
  'status' | 'cancel_requested' | 'charge_id' | 'refund_id' | 'last_error'
>;

/** When the worker should next look at the payment, and whether the caller's lease ends now. */
interface PaymentTiming {
  nextAttemptInMs?: number;
  releaseLease?: boolean;
}

/** The order's payment row, if any event about it was handled. */
export async function findPayment(db: Db, orderId: string): Promise<Payment | undefined> {
  return db.selectFrom('payments').selectAll().where('order_id', '=', orderId).executeTakeFirst();
}

/** Creates the order's one payment row (the primary key refuses a second). */
export async function insertPayment(
  trx: Trx,
  payment: { order: OrderSnapshot; status: PaymentStatus; amount: number | null },
): Promise<void> {
  await trx
    .insertInto('payments')
    .values({
      order_id: payment.order.order_id,
      status: payment.status,
      amount: payment.amount,
      order_snapshot: JSON.stringify(payment.order),
    })
    .execute();
}

/** Changes a payment only if it is still in status `from`; false when it had moved on meanwhile. */
export async function updatePayment(
  trx: Trx,
  orderId: string,
  from: PaymentStatus,
  changes: PaymentChanges,
  timing: PaymentTiming = {},
): Promise<boolean> {
  const result = await trx
    .updateTable('payments')
    .set({
      ...changes,
      updated_at: sql<Date>`now()`,
      ...(timing.nextAttemptInMs === undefined
        ? {}
        : {
            next_attempt_at: sql<Date>`now() + make_interval(secs => ${timing.nextAttemptInMs / 1000})`,
          }),
      ...(timing.releaseLease ? { lease_until: null } : {}),
    })
    .where('order_id', '=', orderId)
    .where('status', '=', from)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Leases up to `limit` due payments that no live lease holds, most overdue first. The lease, not a held
 * transaction, marks them taken: a gateway call may take seconds and no connection waits on it, and a
 * worker that dies only delays its payments until their lease expires.
 */
export async function leaseDuePayments(db: Db, limit: number, leaseMs: number): Promise<LeasedPayment[]> {
  const result = await sql<LeasedPayment>`
    UPDATE payments SET lease_until = now() + make_interval(secs => ${leaseMs / 1000})
     WHERE order_id IN (
       SELECT order_id FROM payments
        WHERE status IN ('charging', 'refunding') AND next_attempt_at <= now()
          AND (lease_until IS NULL OR lease_until < now())
        ORDER BY next_attempt_at
        LIMIT ${limit}
          FOR UPDATE SKIP LOCKED)
    RETURNING order_id, status, amount, cancel_requested`.execute(db);
  return result.rows;
}

/** Adds one to the payment's `counter` and returns the new count. */
export async function countAttempt(
  db: Db,
  orderId: string,
  counter: 'attempts' | 'refund_attempts',
): Promise<number> {
  const row = await db
    .updateTable('payments')
    .set((eb) => ({ [counter]: eb(counter, '+', 1) }))
    .where('order_id', '=', orderId)
    .returning(counter)
    .executeTakeFirstOrThrow();
  return row[counter];
}

/** Gives leased payments back at once (a worker stopping), so another takes them without waiting. */
export async function releaseLeases(db: Db, orderIds: readonly string[]): Promise<void> {
  if (orderIds.length === 0) return;
  await db.updateTable('payments').set({ lease_until: null }).where('order_id', 'in', orderIds).execute();
}
