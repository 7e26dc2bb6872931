import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from 'typebox';
import { Identifier } from '@platform/contracts';
import type { Kysely } from 'kysely';
import type { PaymentDatabase } from '../database.js';
import type { Payment } from './payment.js';
import { findAttempts, findPayment } from './payments.repository.js';

/** A payment as `GET /payments/{order_id}` shows it: the charge and the refund, once made, and every call. */
function toPaymentView(payment: Payment, history: Awaited<ReturnType<typeof findAttempts>>) {
  const { amount } = payment;
  return {
    order_id: payment.order_id,
    status: payment.status,
    amount,
    attempts: payment.attempts,
    charge: payment.charge_id === null ? null : { charge_id: payment.charge_id, amount },
    refund: payment.refund_id === null ? null : { refund_id: payment.refund_id, amount },
    created_at: payment.created_at,
    updated_at: payment.updated_at,
    history,
  };
}

const PaymentParams = Type.Object({ order_id: Identifier('The order the payment is for') });

/** Read-only payments for operators and tests (SPEC §2). */
export const paymentRoutes: FastifyPluginAsync<{ db: Kysely<PaymentDatabase> }> = async (app, { db }) => {
  app.get<{ Params: Static<typeof PaymentParams> }>(
    '/payments/:order_id',
    { schema: { params: PaymentParams } },
    async (request, reply) => {
      const payment = await findPayment(db, request.params.order_id);
      if (!payment)
        return reply.code(404).send({ message: `No payment for order ${request.params.order_id}` });
      return toPaymentView(payment, await findAttempts(db, request.params.order_id));
    },
  );
};
