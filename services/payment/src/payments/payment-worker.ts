import type { Kysely } from 'kysely';
import type { Logger } from '@platform/observability';
import { startLeaseWorker, type LeaseWorker } from '@platform/service-host';
import type { PaymentSettings } from '../config.js';
import type { PaymentDatabase } from '../database.js';
import type { PaymentGateway } from './payment-gateway.client.js';
import {
  cancelCharge,
  failPayment,
  recordCharge,
  recordRefund,
  scheduleRetry,
  type PaymentOutcome,
} from './payments.js';
import { leaseDuePayments, releaseLeases, type LeasedPayment } from './payments.repository.js';

/** What the payment worker works with. */
export interface PaymentWorkerDeps {
  db: Kysely<PaymentDatabase>;
  gateway: PaymentGateway;
  settings: PaymentSettings;
  logger: Logger;
  /** Uniform in [0, 1), for the jitter; injectable for tests. */
  random?: () => number;
}

/**
 * Exponential backoff with jitter: attempt n waits about base·2^(n-1), capped, half of it random so that
 * payments failing together (a gateway outage) do not all come back at the same moment.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Starts the worker that charges and refunds at the gateway the payments the event handlers recorded. */
export function startPaymentWorker(deps: PaymentWorkerDeps): LeaseWorker {
  const { db, settings } = deps;
  const logger = deps.logger.child({ component: 'payment-worker' });
  return startLeaseWorker<LeasedPayment>({
    lease: (limit) => leaseDuePayments(db, limit, settings.leaseMs),
    // The stop signal is not passed on: a call in flight is bounded by its timeout and must be recorded,
    // since the gateway may already have acted on it.
    async process(payment) {
      const outcome = await processPayment(deps, payment);
      logger.info({ order_id: payment.order_id, status: payment.status, outcome }, 'payment step done');
    },
    release: (payments) =>
      releaseLeases(
        db,
        payments.map((payment) => payment.order_id),
      ),
    describe: (payment) => ({ order_id: payment.order_id, status: payment.status }),
    concurrency: settings.concurrency,
    pollIntervalMs: settings.pollIntervalMs,
    logger,
  });
}

/** One step of a leased payment: a charge, a refund, or the settling of a cancelled charge. */
export async function processPayment(
  deps: PaymentWorkerDeps,
  payment: LeasedPayment,
): Promise<PaymentOutcome> {
  const { db, gateway, settings } = deps;
  const random = deps.random ?? Math.random;
  const { order_id: orderId, amount } = payment;
  if (amount === null) throw new Error(`payment ${orderId} in ${payment.status} has no amount`);
  const retryIn = (attempt: number) => backoffMs(attempt, settings.retryBaseMs, settings.retryMaxMs, random);

  if (payment.status === 'refunding') {
    // Money taken must come back: refunds are retried for as long as it takes.
    const refund = await gateway.refund(orderId, amount);
    return refund.ok
      ? recordRefund(db, orderId, refund.value)
      : scheduleRetry(db, payment, refund.error, retryIn(payment.refund_attempts));
  }

  if (payment.cancel_requested) {
    // Cancelled before a charge was recorded: never charge it now, but an earlier call may have charged
    // it without our knowing (a timeout, a crash), so the gateway's record decides.
    const lookup = await gateway.findCharge(orderId);
    if (lookup.kind === 'charged') return recordCharge(db, orderId, lookup.charge);
    if (lookup.kind === 'not_charged') return cancelCharge(db, orderId);
    return scheduleRetry(db, payment, lookup.error, retryIn(payment.refund_attempts));
  }

  const charge = await gateway.charge(orderId, amount);
  if (charge.ok) return recordCharge(db, orderId, charge.value);
  if (payment.attempts <= settings.maxRetries) {
    return scheduleRetry(db, payment, charge.error, retryIn(payment.attempts));
  }
  if (!charge.uncertain) return failPayment(db, orderId, charge.error);
  // Out of attempts, but the last one may have charged: fail only once the gateway says it did not.
  const lookup = await gateway.findCharge(orderId);
  if (lookup.kind === 'charged') return recordCharge(db, orderId, lookup.charge);
  if (lookup.kind === 'not_charged') return failPayment(db, orderId, charge.error);
  return scheduleRetry(db, payment, `${charge.error}; ${lookup.error}`, retryIn(payment.attempts));
}
