import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderEvents, PaymentEvents } from '@platform/contracts';
import { listDeadLetters } from '@platform/messaging';
import { waitFor, operatorHeaders } from '@platform/testing';
import {
  notificationsOf,
  pricedOrder,
  sagaEvent,
  startTestNotification,
  type TestNotification,
} from './notification.harness.js';

let notification: TestNotification;

beforeAll(async () => {
  notification = await startTestNotification('notification');
});
afterAll(async () => notification.remove());

const sentLines = (orderId: string) =>
  notification.logs.filter((line) => line.msg === 'notification sent' && line.order_id === orderId);
const handledLines = (eventId: string) =>
  notification.logs.filter((line) => line.event_id === eventId && String(line.msg).endsWith(' handled'));
const storedCount = async (orderId: string) =>
  (await notification.database.query('SELECT 1 FROM notifications WHERE order_id = $1', [orderId])).length;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('notification service', () => {
  it('notifies the customer of each of the five kinds of news, and lists them in order', async () => {
    const order = pricedOrder();
    const events = [
      sagaEvent(PaymentEvents.failed, order, { reason: 'gateway_declined' }),
      sagaEvent(PaymentEvents.processed, order, { charge: { charge_id: 'ch_1', amount: 150 } }),
      sagaEvent(OrderEvents.completed, order),
      sagaEvent(PaymentEvents.refunded, order, { refund: { refund_id: 're_1', amount: 150 } }),
      sagaEvent(OrderEvents.cancelled, order, { reason: 'out_of_stock' }),
    ];
    // One at a time, so that created_at gives the order the list is checked in.
    for (const [index, event] of events.entries()) {
      await notification.exchange.publish(event.type, event);
      await waitFor('notification stored', async () => (await storedCount(order.order_id)) === index + 1);
    }

    const listed = await notificationsOf(notification.baseUrl, order.order_id);
    const id = order.order_id;
    expect(listed.map(({ created_at: _createdAt, ...rest }) => rest)).toEqual([
      {
        order_id: id,
        kind: 'payment.failed',
        recipient: 'customer-123',
        message: `We could not charge your payment for order ${id}: gateway_declined`,
        details: { reason: 'gateway_declined' },
      },
      {
        order_id: id,
        kind: 'payment.processed',
        recipient: 'customer-123',
        message: `We charged 150.00 for order ${id}`,
        details: { amount: 150, charge_id: 'ch_1' },
      },
      {
        order_id: id,
        kind: 'order.completed',
        recipient: 'customer-123',
        message: `Your order ${id} is complete: product-A for 150.00`,
        details: { product_name: 'product-A', total_amount: 150 },
      },
      {
        order_id: id,
        kind: 'payment.refunded',
        recipient: 'customer-123',
        message: `We refunded 150.00 for order ${id}`,
        details: { amount: 150, refund_id: 're_1' },
      },
      {
        order_id: id,
        kind: 'order.cancelled',
        recipient: 'customer-123',
        message: `Your order ${id} was cancelled: out_of_stock`,
        details: { reason: 'out_of_stock' },
      },
    ]);
    const times = listed.map((n) => Date.parse(n.created_at));
    expect(times.every((time, i) => Number.isFinite(time) && time >= (times[i - 1] ?? 0))).toBe(true);

    const [row] = await notification.database.query(
      'SELECT event_id, customer_fullname FROM notifications WHERE order_id = $1 AND kind = $2',
      [id, OrderEvents.cancelled],
    );
    expect(row).toEqual({ event_id: events[4]?.id, customer_fullname: 'Grace Hopper' });

    // One log line per notification, carrying what the customer was told.
    expect(sentLines(id).map((line) => line.kind)).toEqual(events.map((event) => event.type));
    expect(sentLines(id)[4]).toMatchObject({
      order_id: id,
      kind: 'order.cancelled',
      recipient: 'customer-123',
      message: `Your order ${id} was cancelled: out_of_stock`,
    });
  });

  it('dead-letters an event whose payload fails its schema on its first delivery, with the reasons', async () => {
    const order = pricedOrder();
    // A valid envelope whose payment.processed has no charge, and whose order has no items.
    const { charge: _charge, ...withoutCharge } = sagaEvent(PaymentEvents.processed, order).payload;
    const invalid = {
      ...sagaEvent(PaymentEvents.processed, order),
      payload: { ...withoutCharge, order: { ...order, items: [] } },
    };
    await notification.exchange.publish(invalid.type, invalid);
    const { connection } = notification.service.host.broker;
    await waitFor(
      'a dead letter',
      async () => (await listDeadLetters(connection, notification.exchange.name, 'notification')).length > 0,
    );
    const letters = await listDeadLetters(connection, notification.exchange.name, 'notification');
    const letter = letters.find((l) => l.messageId === invalid.id);
    expect(letter).toMatchObject({ routingKey: PaymentEvents.processed, attempts: 1 });
    expect(letter?.lastError).toMatch(/^invalid event: /);
    expect(letter?.lastError).toContain('/payload/order/items');
    expect(letter?.lastError).toContain('charge');
    expect(await storedCount(order.order_id)).toBe(0);
    // Nothing was retried: the consumer counted one dead letter and no retry for it.
    const metrics = await (await fetch(`${notification.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /events_consumed_total\{[^}]*type="invalid"[^}]*outcome="dead_lettered"[^}]*\} 1/,
    );
    expect(metrics).not.toMatch(/events_consumed_total\{[^}]*type="invalid"[^}]*outcome="retried"/);
  });

  it('words a notification about an order with no name or total (nullable in the snapshot)', async () => {
    const order = { ...pricedOrder(), customer_fullname: null, product_name: null, total_amount: null };
    const event = sagaEvent(OrderEvents.completed, order);
    await notification.exchange.publish(event.type, event);
    await waitFor('notification stored', async () => (await storedCount(order.order_id)) === 1);
    const [stored] = await notificationsOf(notification.baseUrl, order.order_id);
    expect(stored).toMatchObject({ message: `Your order ${order.order_id} is complete`, details: {} });
  });

  it('stores one record and writes one log line for an event delivered twice, even at the same moment', async () => {
    const order = pricedOrder();
    const event = sagaEvent(PaymentEvents.processed, order, { charge: { charge_id: 'ch_2', amount: 150 } });
    await Promise.all([
      notification.exchange.publish(event.type, event),
      notification.exchange.publish(event.type, event),
    ]);
    await waitFor('both deliveries handled', () => handledLines(event.id).length === 2);
    await notification.exchange.publish(event.type, event);
    await waitFor('the third delivery handled', () => handledLines(event.id).length === 3);

    // Which delivery logs first is a race; which one stored the notification is not.
    expect(
      handledLines(event.id)
        .map((line) => String(line.outcome))
        .sort(),
    ).toEqual(['duplicate', 'duplicate', 'sent']);
    expect(await storedCount(order.order_id)).toBe(1);
    expect(sentLines(order.order_id)).toHaveLength(1);
  });

  it('notifies once per kind when two different events of that kind arrive for one order', async () => {
    const order = pricedOrder();
    const first = sagaEvent(PaymentEvents.refunded, order, { refund: { refund_id: 're_a', amount: 150 } });
    const second = sagaEvent(PaymentEvents.refunded, order, { refund: { refund_id: 're_b', amount: 150 } });
    await Promise.all([
      notification.exchange.publish(first.type, first),
      notification.exchange.publish(second.type, second),
    ]);
    await waitFor(
      'both events handled',
      () => handledLines(first.id).length === 1 && handledLines(second.id).length === 1,
    );
    const outcomes = [...handledLines(first.id), ...handledLines(second.id)].map((line) =>
      String(line.outcome),
    );
    expect(outcomes.sort()).toEqual(['already_sent', 'sent']);

    const listed = await notificationsOf(notification.baseUrl, order.order_id);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({
      kind: 'payment.refunded',
      message: `We refunded 150.00 for order ${order.order_id}`,
    });
    expect(sentLines(order.order_id)).toHaveLength(1);
    const inbox = await notification.database.query('SELECT 1 FROM inbox WHERE event_id IN ($1, $2)', [
      first.id,
      second.id,
    ]);
    expect(inbox).toHaveLength(2);
  });

  it('answers 422 without an order id and an empty list for an unknown order', async () => {
    for (const query of ['', '?order_id=', '?user_id=customer-123']) {
      const response = await fetch(`${notification.baseUrl}/notifications${query}`, {
        headers: await operatorHeaders(),
      });
      expect(response.status).toBe(422);
      const body = (await response.json()) as { message?: unknown; errors?: { path: string }[] };
      expect(body.message).toBe('Invalid querystring');
      expect(body.errors?.[0]?.path).toMatch(/^querystring/);
    }
    expect(await notificationsOf(notification.baseUrl, 'no-such-order')).toEqual([]);
  });

  it('dead-letters an event without payload.order at once, and keeps notifying', async () => {
    const poisonId = `poison-${pricedOrder().order_id}`;
    await notification.exchange.publish(OrderEvents.cancelled, {
      id: poisonId,
      type: OrderEvents.cancelled,
      producer: 'order',
      sent_at: new Date().toISOString(),
      correlation_id: 'x',
      payload: { reason: 'timeout' },
    });
    const connection = notification.service.host.broker.connection;
    const exchange = notification.exchange.name;
    const poison = async () =>
      (await listDeadLetters(connection, exchange, 'notification')).filter((l) => l.messageId === poisonId);
    await waitFor('a dead letter', async () => (await poison()).length === 1);
    const [letter] = await poison();
    expect(letter).toMatchObject({ routingKey: OrderEvents.cancelled, attempts: 1 });
    expect(letter?.lastError).toMatch(/\/payload: must have required propert.*order/);

    const order = pricedOrder();
    const later = sagaEvent(OrderEvents.cancelled, order, { reason: 'timeout' });
    await notification.exchange.publish(later.type, later);
    await waitFor('notification stored', async () => (await storedCount(order.order_id)) === 1);
    expect(sentLines(order.order_id)).toHaveLength(1);
    await sleep(200);
    expect(await poison()).toHaveLength(1);
    expect(
      await notification.database.query('SELECT 1 FROM notifications WHERE order_id = $1', ['x']),
    ).toEqual([]);
  });

  it('serves its health and metrics', async () => {
    const ready = await fetch(`${notification.baseUrl}/health/ready`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`${notification.baseUrl}/metrics`)).text();
    expect(metrics).toContain('events_consumed_total');
  });
});
