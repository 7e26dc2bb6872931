import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InventoryEvents, OrderEvents, PaymentEvents, type PayloadOf } from '@platform/contracts';
import { listDeadLetters } from '@platform/messaging';
import { waitFor, type CapturedMessage, operatorHeaders } from '@platform/testing';
import {
  FAIL,
  gatewayRecord,
  paymentOf,
  pricedOrder,
  sagaEvent,
  sleep,
  startTestPayment,
  SUCCEED,
  type TestPayment,
} from './payment.harness.js';

/** Any of payment's event payloads, every field but the order optional. */
type AnyPaymentPayload = PayloadOf<'payment.failed'> &
  Partial<PayloadOf<'payment.processed'> & PayloadOf<'payment.refunded'>>;

const reserved = (order: ReturnType<typeof pricedOrder>) =>
  sagaEvent(InventoryEvents.reserved, 'inventory', order);
const cancelled = (order: ReturnType<typeof pricedOrder>, reason = 'customer_request') =>
  sagaEvent(OrderEvents.cancelled, 'order', order, reason);

/** Captures the payment events of one test service, per order. */
async function capturePaymentEvents(payment: TestPayment) {
  const published: CapturedMessage[] = await payment.exchange.capture(['payment.*']);
  return (orderId: string) =>
    published
      .filter((message) => (message.body as { correlation_id: string }).correlation_id === orderId)
      .map((message) => ({
        type: message.routingKey,
        payload: (message.body as { payload: AnyPaymentPayload }).payload,
      }));
}

/** Waits until the service has handled an event (its inbox row is committed). */
async function handled(payment: TestPayment, eventId: string): Promise<void> {
  await waitFor(
    `event ${eventId} handled`,
    async () =>
      (await payment.database.query('SELECT 1 FROM inbox WHERE event_id = $1', [eventId])).length === 1,
  );
}

const statusOf = async (payment: TestPayment, orderId: string) =>
  (await paymentOf(payment.baseUrl, orderId))?.status;

/** Publishes inventory.reserved, then order.cancelled once a slow gateway is working on the charge. */
async function cancelDuringCharge(
  payment: TestPayment,
  order: ReturnType<typeof pricedOrder>,
): Promise<void> {
  await payment.exchange.publish(InventoryEvents.reserved, reserved(order));
  await waitFor('the charge to reach the gateway', () => gatewayRecord(payment.gatewayUrl, order.order_id));
  const cancel = cancelled(order, 'timeout');
  await payment.exchange.publish(OrderEvents.cancelled, cancel);
  await handled(payment, cancel.id);
  // The call is still in flight: the cancellation was only noted.
  expect(await statusOf(payment, order.order_id)).toBe('charging');
}

describe('payment service', () => {
  let payment: TestPayment;
  let eventsFor: Awaited<ReturnType<typeof capturePaymentEvents>>;

  beforeAll(async () => {
    payment = await startTestPayment('payment');
    eventsFor = await capturePaymentEvents(payment);
  });
  afterAll(async () => payment.remove());

  it('charges the order its total and announces payment.processed', async () => {
    const order = pricedOrder(59.97);
    await payment.exchange.publish(InventoryEvents.reserved, reserved(order));
    await waitFor('payment.processed', () => eventsFor(order.order_id).length === 1);

    const record = await gatewayRecord(payment.gatewayUrl, order.order_id);
    expect(record?.charge?.amount).toBe(59.97);
    expect(record?.failed_attempts).toBe(0);
    const [event] = eventsFor(order.order_id);
    expect(event?.type).toBe(PaymentEvents.processed);
    expect(event?.payload.order.order_id).toBe(order.order_id);
    expect(event?.payload.charge).toEqual({ charge_id: record?.charge?.charge_id, amount: 59.97 });
    expect(await paymentOf(payment.baseUrl, order.order_id)).toMatchObject({
      order_id: order.order_id,
      status: 'charged',
      amount: 59.97,
      attempts: 1,
      charge: { charge_id: record?.charge?.charge_id, amount: 59.97 },
      refund: null,
    });
  });

  it('answers 404 with a message for an order it never saw', async () => {
    const response = await fetch(`${payment.baseUrl}/payments/no-such-order`, {
      headers: await operatorHeaders(),
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ message: 'No payment for order no-such-order' });
  });

  it('retries transient gateway failures and charges once', async () => {
    const order = pricedOrder(9.99);
    payment.draws.push(FAIL, FAIL, SUCCEED);
    await payment.exchange.publish(InventoryEvents.reserved, reserved(order));
    await waitFor('payment.processed', () => eventsFor(order.order_id).length === 1);

    expect(eventsFor(order.order_id).map((e) => e.type)).toEqual([PaymentEvents.processed]);
    const record = await gatewayRecord(payment.gatewayUrl, order.order_id);
    expect(record).toMatchObject({ failed_attempts: 2, charge: { amount: 9.99 }, refund: null });
    const view = await paymentOf(payment.baseUrl, order.order_id);
    expect(view).toMatchObject({ status: 'charged', attempts: 3 });
    // Every gateway call in its history: two failures retried, then the charge.
    const history = (view as { history?: { step: string; outcome: string; reference: string | null }[] })
      .history;
    expect(history?.map((call) => `${call.step}:${call.outcome}`)).toEqual([
      'charge:retry',
      'charge:retry',
      'charge:charged',
    ]);
    expect(history?.[2]?.reference).toMatch(/^ch_/);
  });

  it('fails the payment after 1 + 3 failed attempts, charging nothing', async () => {
    const order = pricedOrder(14.99);
    payment.draws.push(FAIL, FAIL, FAIL, FAIL);
    await payment.exchange.publish(InventoryEvents.reserved, reserved(order));
    await waitFor('payment.failed', () => eventsFor(order.order_id).length === 1);

    const [event] = eventsFor(order.order_id);
    expect(event?.type).toBe(PaymentEvents.failed);
    expect(event?.payload.reason).toBe('payment_failed');
    expect(event?.payload.order.order_id).toBe(order.order_id);
    expect(await gatewayRecord(payment.gatewayUrl, order.order_id)).toMatchObject({
      failed_attempts: 4,
      charge: null,
    });
    expect(await paymentOf(payment.baseUrl, order.order_id)).toMatchObject({
      status: 'failed',
      attempts: 4,
      charge: null,
    });

    // A cancellation of an order whose payment failed has nothing to refund.
    const cancel = cancelled(order, 'payment_failed');
    await payment.exchange.publish(OrderEvents.cancelled, cancel);
    await handled(payment, cancel.id);
    await sleep(300);
    expect(await statusOf(payment, order.order_id)).toBe('failed');
    expect(await gatewayRecord(payment.gatewayUrl, order.order_id)).toMatchObject({ refund: null });
    expect(eventsFor(order.order_id)).toHaveLength(1);
  });

  it('has one effect for inventory.reserved delivered twice, even at the same moment', async () => {
    const order = pricedOrder(25);
    const event = reserved(order);
    await Promise.all([
      payment.exchange.publish(InventoryEvents.reserved, event),
      payment.exchange.publish(InventoryEvents.reserved, event),
    ]);
    await waitFor('payment.processed', () => eventsFor(order.order_id).length >= 1);
    await payment.exchange.publish(InventoryEvents.reserved, event);
    await sleep(500);

    expect(eventsFor(order.order_id).map((e) => e.type)).toEqual([PaymentEvents.processed]);
    expect(await payment.database.query('SELECT 1 FROM inbox WHERE event_id = $1', [event.id])).toHaveLength(
      1,
    );
    expect(await gatewayRecord(payment.gatewayUrl, order.order_id)).toMatchObject({
      failed_attempts: 0,
      charge: { amount: 25 },
    });
    expect(await paymentOf(payment.baseUrl, order.order_id)).toMatchObject({
      status: 'charged',
      attempts: 1,
    });
  });

  it('refunds a charged order that is cancelled: net charged 0', async () => {
    const order = pricedOrder(100.5);
    await payment.exchange.publish(InventoryEvents.reserved, reserved(order));
    await waitFor('payment.processed', () => eventsFor(order.order_id).length === 1);
    const cancel = cancelled(order, 'placement_failed');
    await payment.exchange.publish(OrderEvents.cancelled, cancel);
    await payment.exchange.publish(OrderEvents.cancelled, cancel);
    await waitFor('payment.refunded', () => eventsFor(order.order_id).length === 2);

    const record = await gatewayRecord(payment.gatewayUrl, order.order_id);
    expect(record?.charge?.amount).toBe(100.5);
    expect(record?.refund?.amount).toBe(100.5);
    expect((record?.charge?.amount ?? 0) - (record?.refund?.amount ?? 0)).toBe(0);
    const [processed, refunded] = eventsFor(order.order_id);
    expect(processed?.type).toBe(PaymentEvents.processed);
    expect(refunded?.type).toBe(PaymentEvents.refunded);
    expect(refunded?.payload.refund).toEqual({ refund_id: record?.refund?.refund_id, amount: 100.5 });
    expect(await paymentOf(payment.baseUrl, order.order_id)).toMatchObject({
      status: 'refunded',
      charge: { charge_id: record?.charge?.charge_id, amount: 100.5 },
      refund: { refund_id: record?.refund?.refund_id, amount: 100.5 },
    });
    await sleep(300);
    expect(eventsFor(order.order_id)).toHaveLength(2);
  });

  it('lets a cancellation that overtook inventory.reserved win: nothing is charged', async () => {
    const order = pricedOrder(42);
    const cancel = cancelled(order);
    await payment.exchange.publish(OrderEvents.cancelled, cancel);
    await handled(payment, cancel.id);
    const late = reserved(order);
    await payment.exchange.publish(InventoryEvents.reserved, late);
    await handled(payment, late.id);
    await sleep(300);

    expect(await gatewayRecord(payment.gatewayUrl, order.order_id)).toBeUndefined();
    expect(eventsFor(order.order_id)).toHaveLength(0);
    expect(await paymentOf(payment.baseUrl, order.order_id)).toMatchObject({
      status: 'cancelled',
      amount: null,
      attempts: 0,
      charge: null,
      refund: null,
    });
  });

  it('dead-letters an inventory.reserved whose order has no total, and keeps flowing', async () => {
    const unpriced = pricedOrder(null);
    const poison = reserved(unpriced);
    await payment.exchange.publish(InventoryEvents.reserved, poison);
    const healthy = pricedOrder(5);
    await payment.exchange.publish(InventoryEvents.reserved, reserved(healthy));
    await waitFor('payment.processed', () => eventsFor(healthy.order_id).length === 1);

    const connection = payment.service.host.broker.connection;
    const letters = await waitFor('a dead letter', async () => {
      const found = await listDeadLetters(connection, payment.exchange.name, 'payment');
      return found.length === 1 ? found : undefined;
    });
    expect(letters[0]).toMatchObject({ messageId: poison.id, attempts: 3 });
    expect(letters[0]?.lastError).toContain('total_amount');
    expect(await paymentOf(payment.baseUrl, unpriced.order_id)).toBeUndefined();
  });

  it('counts its gateway steps by outcome on /metrics', async () => {
    // The tests above charged, retried, failed and refunded through this instance.
    const metrics = await (await fetch(`${payment.baseUrl}/metrics`)).text();
    for (const [step, outcome] of [
      ['charge', 'charged'],
      ['charge', 'retry_scheduled'],
      ['charge', 'failed'],
      ['refund', 'refunded'],
    ]) {
      expect(metrics).toMatch(
        new RegExp(`^payment_steps_total\\{[^}]*step="${step}",outcome="${outcome}"[^}]*\\} [1-9]`, 'm'),
      );
    }
  });
});

describe('payment service with a slow gateway', () => {
  let payment: TestPayment;
  let eventsFor: Awaited<ReturnType<typeof capturePaymentEvents>>;

  beforeAll(async () => {
    payment = await startTestPayment('payment_slow', { gateway: { delayMs: 500 } });
    eventsFor = await capturePaymentEvents(payment);
  });
  afterAll(async () => payment.remove());

  it('refunds a charge that completes after the order was cancelled, never announcing it processed', async () => {
    const order = pricedOrder(30);
    await cancelDuringCharge(payment, order);
    await waitFor('payment.refunded', () => eventsFor(order.order_id).length === 1, 15_000);

    expect(eventsFor(order.order_id).map((e) => e.type)).toEqual([PaymentEvents.refunded]);
    const record = await gatewayRecord(payment.gatewayUrl, order.order_id);
    expect(record).toMatchObject({ charge: { amount: 30 }, refund: { amount: 30 } });
    expect(await paymentOf(payment.baseUrl, order.order_id)).toMatchObject({
      status: 'refunded',
      attempts: 1,
      charge: { charge_id: record?.charge?.charge_id },
      refund: { refund_id: record?.refund?.refund_id },
    });
  });

  it('does not charge again when a charge in flight fails after the order was cancelled', async () => {
    const order = pricedOrder(31);
    payment.draws.push(FAIL);
    await cancelDuringCharge(payment, order);
    await waitFor('settled', async () => (await statusOf(payment, order.order_id)) === 'cancelled', 15_000);
    await sleep(300);

    expect(eventsFor(order.order_id)).toHaveLength(0);
    expect(await gatewayRecord(payment.gatewayUrl, order.order_id)).toMatchObject({
      failed_attempts: 1,
      charge: null,
      refund: null,
    });
    expect(await paymentOf(payment.baseUrl, order.order_id)).toMatchObject({ attempts: 1, charge: null });
  });
});

describe('payment service when its calls time out', () => {
  let payment: TestPayment;
  let eventsFor: Awaited<ReturnType<typeof capturePaymentEvents>>;

  beforeAll(async () => {
    payment = await startTestPayment('payment_timeout', {
      gateway: { delayMs: 400 },
      env: { PAYMENT_CALL_TIMEOUT_MS: '100', PAYMENT_MAX_RETRIES: '0', PAYMENT_LEASE_MS: '2000' },
    });
    eventsFor = await capturePaymentEvents(payment);
  });
  afterAll(async () => payment.remove());

  it('finds the charge a timed-out last attempt made instead of failing the payment', async () => {
    const order = pricedOrder(12.34);
    await payment.exchange.publish(InventoryEvents.reserved, reserved(order));
    await waitFor('payment.processed', () => eventsFor(order.order_id).length === 1);

    const record = await gatewayRecord(payment.gatewayUrl, order.order_id);
    expect(eventsFor(order.order_id)[0]?.payload.charge).toEqual({
      charge_id: record?.charge?.charge_id,
      amount: 12.34,
    });
    expect(await paymentOf(payment.baseUrl, order.order_id)).toMatchObject({
      status: 'charged',
      attempts: 1,
    });
  });

  it('fails the payment when the gateway confirms a timed-out last attempt charged nothing', async () => {
    const order = pricedOrder(12.35);
    payment.draws.push(FAIL);
    await payment.exchange.publish(InventoryEvents.reserved, reserved(order));
    await waitFor('payment.failed', () => eventsFor(order.order_id).length === 1);

    expect(eventsFor(order.order_id)[0]).toMatchObject({
      type: PaymentEvents.failed,
      payload: { reason: 'payment_failed' },
    });
    expect(await gatewayRecord(payment.gatewayUrl, order.order_id)).toMatchObject({ charge: null });
  });
});

describe('payment service when the gateway goes away between attempts', () => {
  let payment: TestPayment;
  let eventsFor: Awaited<ReturnType<typeof capturePaymentEvents>>;

  beforeAll(async () => {
    // The first call times out after 100 ms although the gateway charges on arrival; the second and last
    // comes 0.5-1 s later, time enough to take the gateway away in between.
    payment = await startTestPayment('payment_refused', {
      gateway: { delayMs: 400 },
      env: {
        PAYMENT_CALL_TIMEOUT_MS: '100',
        PAYMENT_MAX_RETRIES: '1',
        PAYMENT_RETRY_BASE_MS: '1000',
        PAYMENT_RETRY_MAX_MS: '2000',
        PAYMENT_LEASE_MS: '5000',
      },
    });
    eventsFor = await capturePaymentEvents(payment);
  });
  afterAll(async () => payment.remove());

  const rowOf = async (orderId: string) =>
    (
      await payment.database.query<{ status: string; attempts: number; last_error: string | null }>(
        'SELECT status, attempts, last_error FROM payments WHERE order_id = $1',
        [orderId],
      )
    )[0];

  it('finds the charge of a timed-out attempt when the last attempt is refused, instead of failing', async () => {
    const order = pricedOrder(12.36);
    await payment.exchange.publish(InventoryEvents.reserved, reserved(order));
    await waitFor('the first attempt timed out', async () =>
      (await rowOf(order.order_id))?.last_error?.includes('timed out'),
    );
    const charged = await gatewayRecord(payment.gatewayUrl, order.order_id);
    expect(charged?.charge?.amount).toBe(12.36);

    await payment.gatewayLink.cut();
    await waitFor('the last attempt refused', async () =>
      (await rowOf(order.order_id))?.last_error?.includes('ECONNREFUSED'),
    );
    // Refused is no answer: the payment waits to learn what the timed-out attempt did.
    expect(await rowOf(order.order_id)).toMatchObject({ status: 'charging', attempts: 2 });
    expect(eventsFor(order.order_id)).toHaveLength(0);

    await payment.gatewayLink.restore();
    await waitFor('payment.processed', () => eventsFor(order.order_id).length === 1);
    expect(eventsFor(order.order_id)).toMatchObject([
      {
        type: PaymentEvents.processed,
        payload: { charge: { charge_id: charged?.charge?.charge_id, amount: 12.36 } },
      },
    ]);
    expect(await paymentOf(payment.baseUrl, order.order_id)).toMatchObject({
      status: 'charged',
      charge: { charge_id: charged?.charge?.charge_id },
    });
  });
});

describe('payment service when the gateway goes away during a charge', () => {
  let payment: TestPayment;
  let eventsFor: Awaited<ReturnType<typeof capturePaymentEvents>>;

  beforeAll(async () => {
    // The gateway takes 1 s, so that the order is cancelled while its charge is in flight; the backoff is
    // long enough that paced look-ups cannot be mistaken for a loop.
    payment = await startTestPayment('payment_outage', {
      gateway: { delayMs: 1000 },
      env: { PAYMENT_RETRY_BASE_MS: '100', PAYMENT_RETRY_MAX_MS: '400' },
    });
    eventsFor = await capturePaymentEvents(payment);
  });
  afterAll(async () => payment.remove());

  const lookupsOf = async (orderId: string) =>
    (
      await payment.database.query<{ refund_attempts: number }>(
        'SELECT refund_attempts FROM payments WHERE order_id = $1',
        [orderId],
      )
    )[0]?.refund_attempts;

  it('backs off settling a cancelled charge while the gateway cannot be reached, and settles it once back', async () => {
    const order = pricedOrder(33);
    await cancelDuringCharge(payment, order);
    // The charge call breaks off: whether it charged is unknown, and the gateway's record that would tell
    // cannot be read until the gateway is back.
    await payment.gatewayLink.cut();
    await waitFor('the first look-up', async () => ((await lookupsOf(order.order_id)) ?? 0) >= 1);
    await sleep(1000);

    // Look-ups come 50-100, 100-200, then 200-400 ms apart: at most 7 in that second, where settling
    // each at once made hundreds.
    expect(await statusOf(payment, order.order_id)).toBe('charging');
    expect(await lookupsOf(order.order_id)).toBeLessThanOrEqual(8);

    await payment.gatewayLink.restore();
    await waitFor('payment.refunded', () => eventsFor(order.order_id).length === 1);
    expect(eventsFor(order.order_id).map((e) => e.type)).toEqual([PaymentEvents.refunded]);
    const record = await gatewayRecord(payment.gatewayUrl, order.order_id);
    expect(record).toMatchObject({ charge: { amount: 33 }, refund: { amount: 33 } });
    expect(await paymentOf(payment.baseUrl, order.order_id)).toMatchObject({
      status: 'refunded',
      attempts: 1,
      refund: { refund_id: record?.refund?.refund_id },
    });
  });
});
