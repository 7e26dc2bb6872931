import { backoffMs } from '@platform/backoff';
import type { Kysely } from 'kysely';
import { Counter } from 'prom-client';
import { context, type Context } from '@opentelemetry/api';
import { createGroupCommit } from '@platform/group-commit';
import type { Logger, Registry } from '@platform/observability';
import { startLeaseWorker, type LeaseWorker } from '@platform/lease-worker';
import { transactForCorrelations, type Transact } from '@platform/service-host';
import type { PaymentSettings } from '../config.js';
import type { PaymentDatabase } from '../database.js';
import type { PaymentApplied } from './apply-payment-events.js';
import type { PaymentGateway } from './payment-gateway.client.js';
import { stepOf, type GatewayResult, type LeasedPayment } from './payment.js';
import { leaseDuePayments, releaseLeases } from './payments.repository.js';
import { recordGatewayResults, type StepResult } from './record-gateway-results.js';

/** What the payment worker works with. */
interface PaymentWorkerDeps {
  db: Kysely<PaymentDatabase>;
  transact: Transact<PaymentDatabase>;
  gateway: PaymentGateway;
  settings: PaymentSettings;
  logger: Logger;
  registry: Registry;
}

/** Most results recorded in one transaction. */
const MAX_RECORDED_TOGETHER = 256;

/**
 * Starts the worker that charges and refunds at the gateway the payments the event handlers recorded and
 * handed over. Results of payments worked on at the same time are recorded together, in one transaction.
 */
export function startPaymentWorker(deps: PaymentWorkerDeps): LeaseWorker<LeasedPayment> {
  const { db, settings } = deps;
  const logger = deps.logger.child({ component: 'payment-worker' });
  const steps = new Counter({
    name: 'payment_steps_total',
    help: 'Gateway steps of the payment worker, by step (charge, refund, settle_cancelled) and outcome',
    labelNames: ['step', 'outcome'] as const,
    registers: [deps.registry],
  });
  const record = createGroupCommit<StepResult & { traceContext: Context }, PaymentApplied>(
    (results) =>
      transactForCorrelations(
        deps.transact,
        'record gateway results',
        results.map(({ leased, traceContext }) => ({ correlationId: leased.order_id, traceContext })),
        (trx) => recordGatewayResults(trx, results, settings.leaseMs),
      ),
    { maxBatch: MAX_RECORDED_TOGETHER, maxConcurrentBatches: 1 },
  );
  const worker: LeaseWorker<LeasedPayment> = startLeaseWorker<LeasedPayment>({
    lease: (limit) => leaseDuePayments(db, limit, settings.leaseMs),
    // The stop signal is not passed on: a call in flight is bounded by its timeout and must be recorded,
    // since the gateway may already have acted on it.
    async process(payment) {
      const step = stepOf(payment);
      const result = await takeGatewayStep(deps, payment);
      const applied = await record.submit({ leased: payment, result, traceContext: context.active() });
      steps.inc({ step, outcome: applied.outcome });
      logger.debug(
        { correlation_id: payment.order_id, status: payment.status, outcome: applied.outcome },
        'payment step done',
      );
      // Money to give back now (the order was cancelled meanwhile): this worker goes on with it.
      if (applied.handOff) worker.submit([applied.handOff]);
      return result.kind === 'retry' && !applied.handOff ? { dueInMs: result.retryInMs } : undefined;
    },
    release: (payments) =>
      releaseLeases(
        db,
        payments.map((payment) => payment.order_id),
      ),
    describe: (payment) => ({ correlation_id: payment.order_id, status: payment.status }),
    trace: { spanName: stepOf, contextOf: (payment) => payment.trace_context },
    concurrency: settings.concurrency,
    pollIntervalMs: settings.pollIntervalMs,
    logger,
  });
  return worker;
}

/**
 * One gateway step of a leased payment: a refund, the settling of a cancelled charge, or a charge. A
 * charge's attempt counts in `attempts`, which `maxRetries` bounds; a refund's and a settling's in
 * `refund_attempts`: both only ever try to give money back, so they never run out of attempts.
 */
async function takeGatewayStep(deps: PaymentWorkerDeps, payment: LeasedPayment): Promise<GatewayResult> {
  if (payment.status === 'refunding') return refund(deps, payment);
  if (payment.cancel_requested)
    return settleByLookUp(deps, payment.order_id, retryIn(deps, payment.refund_attempts), {
      kind: 'not_charged',
    });
  return charge(deps, payment);
}

/** Money taken must come back: a refund is retried for as long as it takes. */
async function refund(deps: PaymentWorkerDeps, payment: LeasedPayment): Promise<GatewayResult> {
  const result = await deps.gateway.refund(payment.order_id, amountOf(payment));
  if (result.ok) return { kind: 'refunded', refund: result.value };
  return { kind: 'retry', error: result.error, retryInMs: retryIn(deps, payment.refund_attempts) };
}

/** Charges the order, retrying a failure while attempts are left. */
async function charge(deps: PaymentWorkerDeps, payment: LeasedPayment): Promise<GatewayResult> {
  const attempt = payment.attempts;
  const result = await deps.gateway.charge(payment.order_id, amountOf(payment));
  if (result.ok) return { kind: 'charged', charge: result.value };
  if (attempt <= deps.settings.maxRetries) {
    return { kind: 'retry', error: result.error, retryInMs: retryIn(deps, attempt) };
  }
  if (!result.uncertain) return { kind: 'failed', error: result.error };
  // Out of attempts, but the last one may have charged: fail only once the gateway says it did not.
  return settleByLookUp(
    deps,
    payment.order_id,
    retryIn(deps, attempt),
    { kind: 'failed', error: result.error },
    result.error,
  );
}

/**
 * Asks the gateway whether the order was charged: a charge found is what happened, none found means
 * `ifNotCharged`, and no answer means asking again after `retryInMs`. `failure`, the call's failure that
 * led here, is recorded beside the look-up's.
 */
async function settleByLookUp(
  deps: PaymentWorkerDeps,
  orderId: string,
  retryInMs: number,
  ifNotCharged: GatewayResult,
  failure?: string,
): Promise<GatewayResult> {
  const lookup = await deps.gateway.findCharge(orderId);
  if (lookup.kind === 'charged') return { kind: 'charged', charge: lookup.charge };
  if (lookup.kind === 'not_charged') return ifNotCharged;
  const error = failure === undefined ? lookup.error : `${failure}; ${lookup.error}`;
  return { kind: 'retry', error, retryInMs };
}

/** Only a cancellation's tombstone has no amount, and it is never the worker's. */
function amountOf(payment: LeasedPayment): number {
  if (payment.amount === null) {
    throw new Error(`payment ${payment.order_id} in ${payment.status} has no amount`);
  }
  return payment.amount;
}

function retryIn(deps: PaymentWorkerDeps, attempt: number): number {
  return backoffMs(attempt, deps.settings.retry, 'equal');
}
