import type { Transaction } from 'kysely';
import { rounds } from '@platform/service-host';
import type { PaymentDatabase } from '../database.js';
import { commitWith } from '@platform/postgres';
import { applyPaymentDecisions, loadPayments, type PaymentApplied } from './apply-payment-events.js';
import { recordGatewayResult, stepOf, type GatewayResult, type LeasedPayment } from './payment.js';
import { appendAttempts } from './payments.repository.js';

/** A worker's step to record: the payment as it leased it, and what the gateway said. */
export interface StepResult {
  leased: LeasedPayment;
  result: GatewayResult;
}

/**
 * Records the results of gateway steps of several workers' payments in one transaction (a group commit),
 * in two round trips (the payments locked and read, then the changes, calls and events with the COMMIT):
 * each is applied only if its payment is still as its worker leased it (see `recordGatewayResult`). Two
 * results for one payment (a second worker after an expired lease) are applied one after the other.
 */
export async function recordGatewayResults(
  trx: Transaction<PaymentDatabase>,
  steps: readonly StepResult[],
  leaseMs: number,
): Promise<PaymentApplied[]> {
  const applied = new Map<StepResult, PaymentApplied>();
  const at = new Date().toISOString();
  for (const round of rounds(steps, (step) => step.leased.order_id)) {
    const orderIds = round.map((step) => step.leased.order_id);
    const results = applyPaymentDecisions(
      trx,
      orderIds,
      await loadPayments(trx, orderIds),
      leaseMs,
      (state, i) => {
        const step = round[i] as StepResult;
        return recordGatewayResult(step.leased, state, step.result, at);
      },
    );
    round.forEach((step, i) => applied.set(step, results[i] as PaymentApplied));
  }
  commitWith(
    trx,
    appendAttempts(
      trx,
      steps.map(({ leased, result }) => ({
        orderId: leased.order_id,
        step: stepOf(leased),
        outcome: result.kind,
        error: 'error' in result ? result.error : null,
        reference:
          result.kind === 'charged'
            ? result.charge.charge_id
            : result.kind === 'refunded'
              ? result.refund.refund_id
              : null,
      })),
    ),
  );
  return steps.map((step) => applied.get(step) as PaymentApplied);
}
