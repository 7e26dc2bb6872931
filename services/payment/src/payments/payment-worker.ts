import type { Kysely } from 'kysely';
import { Counter } from 'prom-client';
import type { Logger, Registry } from '@platform/observability';
import { retryDelayMs, startLeaseWorker, type LeaseWorker } from '@platform/service-host';
import type { PaymentSettings } from '../config.js';
import type { PaymentDatabase } from '../database.js';
import type { PaymentGateway } from './payment-gateway.client.js';
import type { LeasedPayment, PaymentOutcome } from './payment.js';
import { countAttempt, leaseDuePayments, releaseLeases } from './payments.repository.js';
import {
  cancelCharge,
  failPayment,
  recordCharge,
  recordRefund,
  scheduleRetry,
} from './record-gateway-result.js';

/** What the payment worker works with. */
interface PaymentWorkerDeps {
  db: Kysely<PaymentDatabase>;
  gateway: PaymentGateway;
  settings: PaymentSettings;
  logger: Logger;
  registry: Registry;
}

/** Starts the worker that charges and refunds at the gateway the payments the event handlers recorded. */
export function startPaymentWorker(deps: PaymentWorkerDeps): LeaseWorker {
  const { db, settings } = deps;
  const logger = deps.logger.child({ component: 'payment-worker' });
  const steps = new Counter({
    name: 'payment_steps_total',
    help: 'Gateway steps of the payment worker, by step (charge, refund, settle_cancelled) and outcome',
    labelNames: ['step', 'outcome'] as const,
    registers: [deps.registry],
  });
  return startLeaseWorker<LeasedPayment>({
    lease: (limit) => leaseDuePayments(db, limit, settings.leaseMs),
    // The stop signal is not passed on: a call in flight is bounded by its timeout and must be recorded,
    // since the gateway may already have acted on it.
    async process(payment) {
      const step =
        payment.status === 'refunding' ? 'refund' : payment.cancel_requested ? 'settle_cancelled' : 'charge';
      const outcome = await processPayment(deps, payment);
      steps.inc({ step, outcome });
      logger.debug({ correlation_id: payment.order_id, status: payment.status, outcome }, 'payment step done');
    },
    release: (payments) =>
      releaseLeases(
        db,
        payments.map((payment) => payment.order_id),
      ),
    describe: (payment) => ({ correlation_id: payment.order_id, status: payment.status }),
    concurrency: settings.concurrency,
    pollIntervalMs: settings.pollIntervalMs,
    logger,
  });
}

/**
 * One step of a leased payment: a refund, the settling of a cancelled charge, or a charge. Its attempt is
 * counted before the gateway is called, so that a call that crashes its worker still counts. A charge
 * counts in `attempts`, which `maxRetries` bounds; a refund and the settling of a cancelled charge count in
 * `refund_attempts`: both only ever try to give money back, so they never run out of attempts.
 */
async function processPayment(deps: PaymentWorkerDeps, payment: LeasedPayment): Promise<PaymentOutcome> {
  const count = (counter: 'attempts' | 'refund_attempts') => countAttempt(deps.db, payment.order_id, counter);
  if (payment.status === 'refunding') return refund(deps, payment, await count('refund_attempts'));
  if (payment.cancel_requested) return settleCancelled(deps, payment, await count('refund_attempts'));
  return charge(deps, payment, await count('attempts'));
}

/** Money taken must come back: a refund is retried for as long as it takes. */
async function refund(
  deps: PaymentWorkerDeps,
  payment: LeasedPayment,
  attempt: number,
): Promise<PaymentOutcome> {
  const result = await deps.gateway.refund(payment.order_id, amountOf(payment));
  if (result.ok) return recordRefund(deps.db, payment.order_id, result.value);
  return scheduleRetry(deps.db, payment, result.error, retryIn(deps, attempt));
}

/**
 * A charge cancelled before one was recorded is never charged now; but an earlier call may have charged
 * it without our knowing (a timeout, a crash), so the gateway's record decides.
 */
async function settleCancelled(
  deps: PaymentWorkerDeps,
  payment: LeasedPayment,
  attempt: number,
): Promise<PaymentOutcome> {
  return settleByLookUp(deps, payment, attempt, {
    ifNotCharged: () => cancelCharge(deps.db, payment.order_id),
  });
}

/** Charges the order, retrying a failure while attempts are left. */
async function charge(
  deps: PaymentWorkerDeps,
  payment: LeasedPayment,
  attempt: number,
): Promise<PaymentOutcome> {
  const { db, settings } = deps;
  const result = await deps.gateway.charge(payment.order_id, amountOf(payment));
  if (result.ok) return recordCharge(db, payment.order_id, result.value);
  if (attempt <= settings.maxRetries) return scheduleRetry(db, payment, result.error, retryIn(deps, attempt));
  if (!result.uncertain) return failPayment(db, payment.order_id, result.error);
  // Out of attempts, but the last one may have charged: fail only once the gateway says it did not.
  return settleByLookUp(deps, payment, attempt, {
    ifNotCharged: () => failPayment(db, payment.order_id, result.error),
    failure: result.error,
  });
}

/**
 * Asks the gateway whether the order was charged and acts on its answer: a charge found is recorded, none
 * found means `ifNotCharged`, and no answer means asking again after the backoff of `attempt`. `failure`,
 * the call's failure that led here, is recorded beside the look-up's.
 */
async function settleByLookUp(
  deps: PaymentWorkerDeps,
  payment: LeasedPayment,
  attempt: number,
  on: { ifNotCharged: () => Promise<PaymentOutcome>; failure?: string },
): Promise<PaymentOutcome> {
  const lookup = await deps.gateway.findCharge(payment.order_id);
  if (lookup.kind === 'charged') return recordCharge(deps.db, payment.order_id, lookup.charge);
  if (lookup.kind === 'not_charged') return on.ifNotCharged();
  const error = on.failure === undefined ? lookup.error : `${on.failure}; ${lookup.error}`;
  return scheduleRetry(deps.db, payment, error, retryIn(deps, attempt));
}

/** Only a cancellation's tombstone has no amount, and it is never the worker's. */
function amountOf(payment: LeasedPayment): number {
  if (payment.amount === null) {
    throw new Error(`payment ${payment.order_id} in ${payment.status} has no amount`);
  }
  return payment.amount;
}

function retryIn(deps: PaymentWorkerDeps, attempt: number): number {
  return retryDelayMs(attempt, deps.settings.retry, Math.random);
}
