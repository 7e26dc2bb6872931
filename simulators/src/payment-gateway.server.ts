import { randomUUID } from 'node:crypto';
import { Type } from 'typebox';
import {
  delay,
  HttpError,
  readBody,
  sendJson,
  startHttpSimulator,
  type ListenOptions,
  type RunningSimulator,
} from './http.js';
import { seedProfile, type PaymentBehaviour } from './profile.js';

/** Body of `POST /charges` and `POST /refunds`. */
const MoneyRequest = Type.Object({
  order_id: Type.String({ minLength: 1 }),
  amount: Type.Number({ exclusiveMinimum: 0 }),
});

/** A successful charge; answered again, unchanged, for every repeat of the order's charge. */
export interface Charge {
  charge_id: string;
  order_id: string;
  amount: number;
  charged_at: string;
}

/** A refund of an order's charge; an order is refunded at most once. */
export interface Refund {
  refund_id: string;
  order_id: string;
  amount: number;
  refunded_at: string;
}

/** What `GET /charges/{order_id}` shows: the gateway's whole record of one order. */
export interface OrderPayments {
  order_id: string;
  charge: Charge | null;
  refund: Refund | null;
  /** Charge attempts answered with the transient 503. */
  failed_attempts: number;
}

/** Where the gateway listens, how reliable it is (the seed's 80% by default) and its source of chance. */
export interface PaymentGatewayOptions extends ListenOptions {
  behaviour?: PaymentBehaviour;
  /** Uniform in [0, 1); inject a fixed sequence to make the 80% deterministic in tests. */
  random?: () => number;
}

/** Message of the transient failure a client is expected to retry. */
export const CHARGE_FAILURE_MESSAGE = 'Payment gateway temporarily unavailable, retry the charge';

/** Starts the payment gateway: idempotent charges and refunds per `order_id`, and a transient fault rate. */
export function startPaymentGateway(options: PaymentGatewayOptions = {}): Promise<RunningSimulator> {
  const { successRate, delayMs } = options.behaviour ?? seedProfile.payment;
  const random = options.random ?? Math.random;
  const orders = new Map<string, OrderPayments>();
  const recordOf = (orderId: string): OrderPayments => {
    let record = orders.get(orderId);
    if (!record) {
      record = { order_id: orderId, charge: null, refund: null, failed_attempts: 0 };
      orders.set(orderId, record);
    }
    return record;
  };

  return startHttpSimulator(
    'payment',
    [
      {
        method: 'POST',
        path: '/charges',
        handle: async ({ req, res, signal }) => {
          const { order_id, amount } = await readBody(req, MoneyRequest);
          const record = recordOf(order_id);
          if (record.charge) {
            assertSameAmount('charged', record.charge.amount, amount, order_id);
            sendJson(res, 200, record.charge);
            return;
          }
          // Decided and recorded on arrival: a client that gives up during the delay has still been
          // charged, as with a real gateway, and its retry finds that charge instead of charging twice.
          if (random() >= successRate) {
            record.failed_attempts += 1;
            await delay(delayMs, signal);
            throw new HttpError(503, CHARGE_FAILURE_MESSAGE);
          }
          const charge = { charge_id: `ch_${randomUUID()}`, order_id, amount, charged_at: now() };
          record.charge = charge;
          await delay(delayMs, signal);
          sendJson(res, 201, charge);
        },
      },
      {
        method: 'POST',
        path: '/refunds',
        handle: async ({ req, res, signal }) => {
          const { order_id, amount } = await readBody(req, MoneyRequest);
          const record = orders.get(order_id);
          if (!record?.charge) {
            throw new HttpError(
              409,
              `Order ${order_id} has no successful charge, so there is nothing to refund`,
            );
          }
          if (record.refund) {
            assertSameAmount('refunded', record.refund.amount, amount, order_id);
            sendJson(res, 200, record.refund);
            return;
          }
          if (amount > record.charge.amount) {
            throw new HttpError(
              422,
              `Refund of ${amount} exceeds the charge of ${record.charge.amount} for order ${order_id}`,
            );
          }
          const refund = { refund_id: `re_${randomUUID()}`, order_id, amount, refunded_at: now() };
          record.refund = refund;
          await delay(delayMs, signal);
          sendJson(res, 201, refund);
        },
      },
      {
        method: 'GET',
        path: '/charges/:order_id',
        handle: async ({ res, param: orderId }) => {
          const record = orders.get(orderId);
          if (!record) throw new HttpError(404, `No charge was ever attempted for order ${orderId}`);
          sendJson(res, 200, record);
        },
      },
    ],
    options,
  );
}

/** A repeat must be the same request; a different amount is a client bug worth a loud answer. */
function assertSameAmount(done: string, recorded: number, requested: number, orderId: string): void {
  if (recorded !== requested) {
    throw new HttpError(
      409,
      `Order ${orderId} was already ${done} ${recorded}; a repeat must ask for the same amount`,
    );
  }
}

const now = () => new Date().toISOString();
