import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FulfilmentEvents, type EventEnvelope, type PayloadOf } from '@platform/contracts';
import { PLACEMENT_FAILURE_MESSAGE } from '@platform/simulators';
import { waitFor, type CapturedMessage, operatorHeaders } from '@platform/testing';
import {
  orderCancelled,
  paidOrder,
  paymentProcessed,
  placementOf,
  startTestFulfilment,
  TEST_RETRY,
  type TestFulfilment,
} from './fulfilment.harness.js';

let fulfilment: TestFulfilment;
let published: CapturedMessage[];

beforeAll(async () => {
  fulfilment = await startTestFulfilment('fulfilment');
  published = await fulfilment.exchange.capture(['fulfilment.*']);
});
afterAll(async () => fulfilment.remove());
afterEach(() => {
  fulfilment.partner.failAlways(false);
  fulfilment.partner.failNext(0);
});

const eventsFor = (messages: CapturedMessage[], orderId: string) =>
  messages.filter((message) => (message.body as EventEnvelope).correlation_id === orderId);
const payloadOf = (message: CapturedMessage | undefined) =>
  (message?.body as EventEnvelope<Partial<PayloadOf<'fulfilment.placed'> & PayloadOf<'fulfilment.failed'>>>)
    .payload;

describe('fulfilment service', () => {
  it('places a paid order at the partner once and announces it', async () => {
    const order = paidOrder([
      { product_code: 'product-A', quantity: 2 },
      { product_code: 'classic-box', quantity: 1 },
    ]);
    await fulfilment.exchange.publish('payment.processed', paymentProcessed(order));
    await waitFor('fulfilment.placed', () => eventsFor(published, order.order_id).length === 1);

    const atPartner = await fulfilment.partner.placementOf(order.order_id);
    expect(atPartner?.items).toEqual([
      { product_code: 'product-A', quantity: 2 },
      { product_code: 'classic-box', quantity: 1 },
    ]);
    const [event] = eventsFor(published, order.order_id);
    expect(event?.routingKey).toBe(FulfilmentEvents.placed);
    expect(event?.body).toMatchObject({ type: FulfilmentEvents.placed, producer: 'fulfilment' });
    expect(payloadOf(event).placement).toEqual({ placement_id: atPartner?.placement_id });
    expect(payloadOf(event).order).toEqual(order);

    const placement = await placementOf(fulfilment.baseUrl, order.order_id);
    expect(placement).toMatchObject({
      order_id: order.order_id,
      status: 'placed',
      attempts: 1,
      placement_id: atPartner?.placement_id,
      last_error: null,
    });
    expect(Object.keys(placement ?? {}).sort()).toEqual([
      'attempts',
      'created_at',
      'deadline_at',
      'history',
      'last_error',
      'order_id',
      'placement_id',
      'status',
      'updated_at',
    ]);
    // Its history: the one call to the partner, and what came of it.
    expect((placement as { history?: unknown[] } | undefined)?.history).toEqual([
      expect.objectContaining({ outcome: 'placed', placement_id: atPartner?.placement_id, error: null }),
    ]);
  });

  it('answers 404 with a message for an order it never saw', async () => {
    const response = await fetch(`${fulfilment.baseUrl}/placements/no-such-order`, {
      headers: await operatorHeaders(),
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ message: 'No placement for order no-such-order' });
  });

  it('counts its partner calls by outcome on /metrics', async () => {
    // The test before placed an order through this instance.
    const metrics = await (await fetch(`${fulfilment.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^placement_attempts_total\{[^}]*outcome="placed"[^}]*\} [1-9]/m);
  });

  it('retries through partner failures and places the order once', async () => {
    const order = paidOrder();
    fulfilment.partner.failNext(3);
    await fulfilment.exchange.publish('payment.processed', paymentProcessed(order));
    await waitFor('fulfilment.placed', () => eventsFor(published, order.order_id).length === 1);
    await sleep(200);
    expect(eventsFor(published, order.order_id).map((m) => m.routingKey)).toEqual([FulfilmentEvents.placed]);
    expect(await placementOf(fulfilment.baseUrl, order.order_id)).toMatchObject({
      status: 'placed',
      attempts: 4,
      placement_id: (await fulfilment.partner.placementOf(order.order_id))?.placement_id,
      last_error: null,
    });
  });

  it('gives a failing placement up at its deadline, not before, with reason placement_failed', async () => {
    const order = paidOrder();
    fulfilment.partner.failAlways(true);
    await fulfilment.exchange.publish('payment.processed', paymentProcessed(order));
    await waitFor('fulfilment.failed', () => eventsFor(published, order.order_id).length === 1, 15_000);

    const [event] = eventsFor(published, order.order_id);
    expect(event?.routingKey).toBe(FulfilmentEvents.failed);
    expect(payloadOf(event)).toMatchObject({
      reason: 'placement_failed',
      order: { order_id: order.order_id },
    });
    const placement = await placementOf(fulfilment.baseUrl, order.order_id);
    expect(placement).toMatchObject({ status: 'failed', placement_id: null });
    expect(placement?.attempts).toBeGreaterThan(1);
    expect(placement?.last_error).toBe(`partner answered 503: ${PLACEMENT_FAILURE_MESSAGE}`);
    // Given up only when the next try would come after the deadline: at most one backoff before it.
    const gaveUpAt = Date.parse(placement?.updated_at ?? '');
    expect(gaveUpAt).toBeGreaterThanOrEqual(Date.parse(placement?.deadline_at ?? '') - TEST_RETRY.maxMs);
    expect(await fulfilment.partner.placementOf(order.order_id)).toBeUndefined();
  });

  it('has one effect for payment.processed delivered twice, even at the same moment', async () => {
    const order = paidOrder();
    const processed = paymentProcessed(order);
    const postsBefore = fulfilment.partner.posts();
    await Promise.all([
      fulfilment.exchange.publish('payment.processed', processed),
      fulfilment.exchange.publish('payment.processed', processed),
      // The same payment announced again under a new event id: the placement row, not the inbox, stops it.
      fulfilment.exchange.publish('payment.processed', paymentProcessed(order)),
    ]);
    await waitFor('fulfilment.placed', () => eventsFor(published, order.order_id).length === 1);
    await sleep(300);
    expect(eventsFor(published, order.order_id)).toHaveLength(1);
    expect(fulfilment.partner.posts() - postsBefore).toBe(1);
    expect(await placementOf(fulfilment.baseUrl, order.order_id)).toMatchObject({
      status: 'placed',
      attempts: 1,
    });
  });

  it('lets a cancellation that overtook payment.processed win: nothing is placed', async () => {
    const order = paidOrder();
    const postsBefore = fulfilment.partner.posts();
    await fulfilment.exchange.publish('order.cancelled', orderCancelled(order));
    await waitFor(
      'the cancellation recorded',
      async () => (await placementOf(fulfilment.baseUrl, order.order_id))?.status === 'cancelled',
    );
    const processed = paymentProcessed(order);
    await fulfilment.exchange.publish('payment.processed', processed);
    await waitFor(
      'payment.processed handled',
      async () =>
        (await fulfilment.database.query('SELECT 1 FROM inbox WHERE event_id = $1', [processed.id]))
          .length === 1,
    );
    await sleep(300);
    expect(eventsFor(published, order.order_id)).toHaveLength(0);
    expect(fulfilment.partner.posts()).toBe(postsBefore);
    expect(await fulfilment.partner.placementOf(order.order_id)).toBeUndefined();
    expect(await placementOf(fulfilment.baseUrl, order.order_id)).toMatchObject({
      status: 'cancelled',
      attempts: 0,
      deadline_at: null,
    });
  });

  it('stops retrying a placement when its order is cancelled', async () => {
    const order = paidOrder();
    fulfilment.partner.failAlways(true);
    await fulfilment.exchange.publish('payment.processed', paymentProcessed(order));
    await waitFor(
      'a few failed attempts',
      async () => ((await placementOf(fulfilment.baseUrl, order.order_id))?.attempts ?? 0) >= 2,
    );
    await fulfilment.exchange.publish('order.cancelled', orderCancelled(order, 'timeout'));
    const cancelled = await waitFor('the placement cancelled', async () => {
      const placement = await placementOf(fulfilment.baseUrl, order.order_id);
      return placement?.status === 'cancelled' && placement;
    });
    // Past the deadline the placement would have had, nothing more happened to it.
    await sleep(Math.max(0, Date.parse(cancelled.deadline_at ?? '') - Date.now()) + 300);
    const later = await placementOf(fulfilment.baseUrl, order.order_id);
    expect(later?.status).toBe('cancelled');
    // An attempt in flight when the cancellation landed may still be counted, none after it.
    expect(later?.attempts).toBeLessThanOrEqual(cancelled.attempts + 1);
    expect(eventsFor(published, order.order_id)).toHaveLength(0);
    expect(await fulfilment.partner.placementOf(order.order_id)).toBeUndefined();
  });

  it('leaves a placed order placed when it is cancelled afterwards (the partner has no cancel API)', async () => {
    const order = paidOrder();
    await fulfilment.exchange.publish('payment.processed', paymentProcessed(order));
    await waitFor('fulfilment.placed', () => eventsFor(published, order.order_id).length === 1);
    await fulfilment.exchange.publish('order.cancelled', orderCancelled(order));
    await sleep(300);
    expect(await placementOf(fulfilment.baseUrl, order.order_id)).toMatchObject({ status: 'placed' });
    expect(eventsFor(published, order.order_id)).toHaveLength(1);
  });
});

describe('fulfilment service across a restart', () => {
  it('finishes on a new instance a placement that was retrying when the old one stopped', async () => {
    const stack = await startTestFulfilment('fulfilment_restart', {
      FULFILMENT_PLACEMENT_DEADLINE_MS: '30000',
    });
    try {
      const events = await stack.exchange.capture(['fulfilment.*']);
      const order = paidOrder();
      stack.partner.failAlways(true);
      await stack.exchange.publish('payment.processed', paymentProcessed(order));
      await waitFor(
        'a few failed attempts',
        async () => ((await placementOf(stack.baseUrl, order.order_id))?.attempts ?? 0) >= 2,
      );
      await stack.stop();
      const attemptsWhenStopped = (
        await stack.database.query<{ attempts: number; lease_until: Date | null }>(
          'SELECT attempts, lease_until FROM placements WHERE order_id = $1',
          [order.order_id],
        )
      )[0];
      await sleep(300);
      // Nothing runs it while no instance does.
      expect(
        (
          await stack.database.query('SELECT attempts FROM placements WHERE order_id = $1', [order.order_id])
        )[0],
      ).toEqual({ attempts: attemptsWhenStopped?.attempts });

      stack.partner.failAlways(false);
      await stack.start();
      await waitFor('fulfilment.placed', () => eventsFor(events, order.order_id).length === 1);
      await sleep(300);
      expect(eventsFor(events, order.order_id).map((m) => m.routingKey)).toEqual([FulfilmentEvents.placed]);
      const atPartner = await stack.partner.placementOf(order.order_id);
      expect(payloadOf(eventsFor(events, order.order_id)[0]).placement?.placement_id).toBe(
        atPartner?.placement_id,
      );
      expect(await placementOf(stack.baseUrl, order.order_id)).toMatchObject({
        status: 'placed',
        attempts: (attemptsWhenStopped?.attempts ?? 0) + 1,
      });
    } finally {
      await stack.remove();
    }
  });
});

describe('fulfilment service with a slow partner', () => {
  // The partner takes 400 ms to answer, so that things can happen while a call is in flight.
  let slow: TestFulfilment;
  let events: CapturedMessage[];

  beforeAll(async () => {
    slow = await startTestFulfilment('fulfilment_slow', {}, 400);
    events = await slow.exchange.capture(['fulfilment.*']);
  });
  afterAll(async () => slow.remove());

  /** Waits until the partner has the order: it records a placement on arrival, before answering. */
  const callInFlight = (orderId: string) =>
    waitFor('the call in flight', async () => (await slow.partner.placementOf(orderId)) !== undefined);

  it('keeps the partner reference, and announces nothing, when a cancellation lands during the call', async () => {
    const order = paidOrder();
    await slow.exchange.publish('payment.processed', paymentProcessed(order));
    await callInFlight(order.order_id);
    await slow.exchange.publish('order.cancelled', orderCancelled(order, 'timeout'));
    const atPartner = await slow.partner.placementOf(order.order_id);
    await waitFor(
      'the late placement recorded',
      async () => (await placementOf(slow.baseUrl, order.order_id))?.placement_id === atPartner?.placement_id,
    );
    await sleep(300);
    expect(await placementOf(slow.baseUrl, order.order_id)).toMatchObject({
      status: 'cancelled',
      attempts: 1,
    });
    expect(eventsFor(events, order.order_id)).toHaveLength(0);
  });

  it('lets a partner call in flight finish when stopping, and announces it once', async () => {
    const order = paidOrder();
    const postsBefore = slow.partner.posts();
    await slow.exchange.publish('payment.processed', paymentProcessed(order));
    await callInFlight(order.order_id);
    await slow.stop();
    expect(
      await slow.database.query('SELECT status, attempts, lease_until FROM placements WHERE order_id = $1', [
        order.order_id,
      ]),
    ).toEqual([{ status: 'placed', attempts: 1, lease_until: null }]);

    await slow.start();
    await waitFor('fulfilment.placed', () => eventsFor(events, order.order_id).length === 1);
    await sleep(300);
    expect(eventsFor(events, order.order_id)).toHaveLength(1);
    expect(slow.partner.posts() - postsBefore).toBe(1);
  });
});

describe('fulfilment service when its last call before the deadline gets no answer', () => {
  // Every new placement takes the partner 1 s, five times the call timeout, and the deadline passes
  // during the first call: that call is the last, and the partner records the order all the same.
  const retry = { baseMs: 100, maxMs: 400 };
  const lookupGraceMs = 3 * retry.maxMs;
  let stack: TestFulfilment;
  let events: CapturedMessage[];

  beforeAll(async () => {
    stack = await startTestFulfilment(
      'fulfilment_uncertain',
      {
        FULFILMENT_CALL_TIMEOUT_MS: '200',
        FULFILMENT_PLACEMENT_DEADLINE_MS: '100',
        FULFILMENT_RETRY_BASE_MS: String(retry.baseMs),
        FULFILMENT_RETRY_MAX_MS: String(retry.maxMs),
      },
      1000,
    );
    events = await stack.exchange.capture(['fulfilment.*']);
  });
  afterAll(async () => stack.remove());
  afterEach(async () => stack.partnerLink.restore().catch(() => undefined));

  /** Waits until the partner has the order: it records a placement on arrival, before answering. */
  const callInFlight = (orderId: string) =>
    waitFor('the call in flight', async () => (await stack.partner.placementOf(orderId)) !== undefined);

  it('asks the partner, and records the order placed when the timed-out call placed it', async () => {
    const order = paidOrder();
    const postsBefore = stack.partner.posts();
    await stack.exchange.publish('payment.processed', paymentProcessed(order));
    await waitFor('fulfilment.placed', () => eventsFor(events, order.order_id).length === 1);
    await sleep(300);

    const atPartner = await stack.partner.placementOf(order.order_id);
    expect(eventsFor(events, order.order_id).map((m) => m.routingKey)).toEqual([FulfilmentEvents.placed]);
    expect(payloadOf(eventsFor(events, order.order_id)[0]).placement).toEqual({
      placement_id: atPartner?.placement_id,
    });
    expect(await placementOf(stack.baseUrl, order.order_id)).toMatchObject({
      status: 'placed',
      attempts: 1,
      placement_id: atPartner?.placement_id,
      last_error: null,
    });
    // Past the deadline the partner was asked, not sent the order again.
    expect(stack.partner.posts() - postsBefore).toBe(1);
  });

  it('asks again later when the partner cannot be asked at the deadline', async () => {
    const order = paidOrder();
    await stack.exchange.publish('payment.processed', paymentProcessed(order));
    await callInFlight(order.order_id);
    await stack.partnerLink.cut();
    await waitFor('a failed look-up', async () =>
      (await placementOf(stack.baseUrl, order.order_id))?.last_error?.includes('look-up'),
    );
    expect((await placementOf(stack.baseUrl, order.order_id))?.status).toBe('placing');
    await stack.partnerLink.restore();

    await waitFor('fulfilment.placed', () => eventsFor(events, order.order_id).length === 1);
    await sleep(300);
    expect(eventsFor(events, order.order_id).map((m) => m.routingKey)).toEqual([FulfilmentEvents.placed]);
    expect(await placementOf(stack.baseUrl, order.order_id)).toMatchObject({
      status: 'placed',
      placement_id: (await stack.partner.placementOf(order.order_id))?.placement_id,
    });
  });

  it('gives up soon after the deadline when the partner stays unreachable', async () => {
    const order = paidOrder();
    await stack.exchange.publish('payment.processed', paymentProcessed(order));
    await callInFlight(order.order_id);
    await stack.partnerLink.cut();
    await waitFor('fulfilment.failed', () => eventsFor(events, order.order_id).length === 1);

    expect(eventsFor(events, order.order_id).map((m) => m.routingKey)).toEqual([FulfilmentEvents.failed]);
    const placement = await placementOf(stack.baseUrl, order.order_id);
    expect(placement).toMatchObject({ status: 'failed', placement_id: null });
    expect(placement?.last_error).toContain('look-up');
    // Look-ups stop once the next would come more than the grace past the deadline; they are at least
    // half a ceiling apart by then, so only a few were made.
    const deadline = Date.parse(placement?.deadline_at ?? '');
    expect(Date.parse(placement?.updated_at ?? '')).toBeLessThanOrEqual(deadline + lookupGraceMs + 500);
    expect(placement?.attempts).toBeLessThanOrEqual(10);
  });
});
