import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InventoryEvents, OrderEvents, type PayloadOf } from '@platform/contracts';
import { listDeadLetters, replayDeadLetters } from '@platform/messaging';
import { waitFor, type CapturedMessage } from '@platform/testing';
import {
  orderEvent,
  pricedOrder,
  startTestInventory,
  stockOf,
  type TestInventory,
} from './inventory.harness.js';

let inventory: TestInventory;
let published: CapturedMessage[];

beforeAll(async () => {
  inventory = await startTestInventory('inventory');
  published = await inventory.exchange.capture(['inventory.*']);
});
afterAll(async () => inventory.remove());

const eventsFor = (orderId: string) =>
  published.filter((message) => (message.body as { correlation_id: string }).correlation_id === orderId);
const sql = (text: string, values?: unknown[]) => inventory.database.query(text, values);

describe('inventory service', () => {
  it('reserves every item of an order and announces it', async () => {
    const order = pricedOrder([
      { product_code: 'product-A', quantity: 2 },
      { product_code: 'classic-box', quantity: 1 },
    ]);
    await inventory.exchange.publish(OrderEvents.created, orderEvent(OrderEvents.created, order));
    await waitFor('events', () => eventsFor(order.order_id).length === 1);
    const [event] = eventsFor(order.order_id);
    expect(event?.routingKey).toBe(InventoryEvents.reserved);
    expect((event?.body as { payload: PayloadOf<'inventory.reserved'> }).payload.order.order_id).toBe(
      order.order_id,
    );
    expect(await stockOf(inventory.baseUrl, 'product-A')).toEqual({
      product_code: 'product-A',
      available: 8,
      reserved: 2,
      sold: 0,
    });
  });

  it('answers out of stock with what is missing, reserving nothing', async () => {
    const order = pricedOrder([
      { product_code: 'product-A', quantity: 1 },
      { product_code: 'product-C', quantity: 1 },
    ]);
    const before = await stockOf(inventory.baseUrl, 'product-A');
    await inventory.exchange.publish(OrderEvents.created, orderEvent(OrderEvents.created, order));
    await waitFor('events', () => eventsFor(order.order_id).length === 1);
    const [event] = eventsFor(order.order_id);
    expect(event?.routingKey).toBe(InventoryEvents.unavailable);
    const payload = (event?.body as { payload: PayloadOf<'inventory.unavailable'> }).payload;
    expect(payload.reason).toBe('out_of_stock');
    expect(payload.missing).toEqual([{ product_code: 'product-C', requested: 1, available: 0 }]);
    expect(await stockOf(inventory.baseUrl, 'product-A')).toEqual(before);
  });

  it('has one effect for an event delivered twice, even at the same moment', async () => {
    const order = pricedOrder([{ product_code: 'family-box', quantity: 3 }]);
    const created = orderEvent(OrderEvents.created, order);
    await Promise.all([
      inventory.exchange.publish(OrderEvents.created, created),
      inventory.exchange.publish(OrderEvents.created, created),
    ]);
    await waitFor('events', () => eventsFor(order.order_id).length >= 1);
    const cancelled = orderEvent(OrderEvents.cancelled, order, 'payment_failed');
    await inventory.exchange.publish(OrderEvents.cancelled, cancelled);
    await inventory.exchange.publish(OrderEvents.cancelled, cancelled);
    await waitFor(
      'state',
      async () =>
        (await sql('SELECT status FROM reservations WHERE order_id = $1', [order.order_id]))[0]?.status ===
        'released',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(
      await sql('SELECT 1 FROM inbox WHERE event_id IN ($1, $2)', [created.id, cancelled.id]),
    ).toHaveLength(2);
    expect(eventsFor(order.order_id)).toHaveLength(1);
    expect(await stockOf(inventory.baseUrl, 'family-box')).toMatchObject({ available: 1000, reserved: 0 });
  });

  it('releases a cancelled order and sells a completed one', async () => {
    const cancelledOrder = pricedOrder([{ product_code: 'veggie-box', quantity: 4 }]);
    const completedOrder = pricedOrder([{ product_code: 'veggie-box', quantity: 6 }]);
    for (const order of [cancelledOrder, completedOrder]) {
      await inventory.exchange.publish(OrderEvents.created, orderEvent(OrderEvents.created, order));
    }
    await waitFor(
      'events',
      () => eventsFor(cancelledOrder.order_id).length + eventsFor(completedOrder.order_id).length === 2,
    );
    expect(await stockOf(inventory.baseUrl, 'veggie-box')).toMatchObject({ available: 990, reserved: 10 });
    await inventory.exchange.publish(
      OrderEvents.cancelled,
      orderEvent(OrderEvents.cancelled, cancelledOrder, 'timeout'),
    );
    await inventory.exchange.publish(
      OrderEvents.completed,
      orderEvent(OrderEvents.completed, completedOrder),
    );
    await waitFor('state', async () => (await stockOf(inventory.baseUrl, 'veggie-box')).sold === 6);
    await waitFor('state', async () => (await stockOf(inventory.baseUrl, 'veggie-box')).reserved === 0);
    expect(await stockOf(inventory.baseUrl, 'veggie-box')).toEqual({
      product_code: 'veggie-box',
      available: 994,
      reserved: 0,
      sold: 6,
    });
  });

  it('lets a cancellation that overtook order.created win: nothing is reserved', async () => {
    const order = pricedOrder([{ product_code: 'product-A', quantity: 1 }]);
    const before = await stockOf(inventory.baseUrl, 'product-A');
    await inventory.exchange.publish(
      OrderEvents.cancelled,
      orderEvent(OrderEvents.cancelled, order, 'customer_request'),
    );
    await waitFor(
      'state',
      async () =>
        (await sql('SELECT 1 FROM reservations WHERE order_id = $1', [order.order_id])).length === 1,
    );
    const created = orderEvent(OrderEvents.created, order);
    await inventory.exchange.publish(OrderEvents.created, created);
    await waitFor(
      'order.created handled',
      async () => (await sql('SELECT 1 FROM inbox WHERE event_id = $1', [created.id])).length === 1,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(eventsFor(order.order_id)).toHaveLength(0);
    expect(await stockOf(inventory.baseUrl, 'product-A')).toEqual(before);
  });

  it('never oversells: 20 concurrent orders for product-B (stock 5) reserve exactly 5', async () => {
    const orders = Array.from({ length: 20 }, () =>
      pricedOrder([{ product_code: 'product-B', quantity: 1 }]),
    );
    await Promise.all(
      orders.map((order) =>
        inventory.exchange.publish(OrderEvents.created, orderEvent(OrderEvents.created, order)),
      ),
    );
    await waitFor(
      'every order decided',
      () => orders.every((order) => eventsFor(order.order_id).length === 1),
      15_000,
    );
    const outcomes = orders.map((order) => eventsFor(order.order_id)[0]?.routingKey);
    expect(outcomes.filter((key) => key === InventoryEvents.reserved)).toHaveLength(5);
    expect(outcomes.filter((key) => key === InventoryEvents.unavailable)).toHaveLength(15);
    expect(await stockOf(inventory.baseUrl, 'product-B')).toEqual({
      product_code: 'product-B',
      available: 0,
      reserved: 5,
      sold: 0,
    });
  });

  it('dead-letters an invalid event on its first delivery while other orders keep flowing; replay works', async () => {
    const poisonId = 'poison-1';
    await inventory.exchange.publish(OrderEvents.created, {
      id: poisonId,
      type: OrderEvents.created,
      correlation_id: 'x',
      payload: {},
    });
    const healthy = pricedOrder([{ product_code: 'classic-box', quantity: 1 }]);
    await inventory.exchange.publish(OrderEvents.created, orderEvent(OrderEvents.created, healthy));
    await waitFor('events', () => eventsFor(healthy.order_id).length === 1);

    const connection = inventory.service.host.broker.connection;
    const exchange = inventory.exchange.name;
    await waitFor(
      'a dead letter',
      async () => (await listDeadLetters(connection, exchange, 'inventory')).length === 1,
    );
    const [letter] = await listDeadLetters(connection, exchange, 'inventory');
    // No retries: a payload that fails its schema fails it every time.
    expect(letter).toMatchObject({ messageId: poisonId, routingKey: OrderEvents.created, attempts: 1 });
    expect(letter?.lastError).toMatch(/^invalid event: /);
    expect(letter?.lastError).toContain('producer');
    // Listing leaves it in place.
    expect(await listDeadLetters(connection, exchange, 'inventory')).toHaveLength(1);

    // Replayed, it is refused again and comes back: replay sends it through the service.
    const replayed = await replayDeadLetters(connection, exchange, 'inventory', [poisonId]);
    expect(replayed.map((l) => l.messageId)).toEqual([poisonId]);
    // The consumer saw it a second time (and refused it again at once).
    await waitFor('the replay refused', async () =>
      /events_consumed_total\{[^}]*type="invalid"[^}]*outcome="dead_lettered"[^}]*\} 2/.test(
        await (await fetch(`${inventory.baseUrl}/metrics`)).text(),
      ),
    );
    expect(await listDeadLetters(connection, exchange, 'inventory')).toHaveLength(1);
  });

  it('replays a dead letter that can now be handled, and it takes effect once', async () => {
    // A message that failed only because the service could not handle it then: it is dead-lettered by
    // hand here (as the consumer would after its attempts) and replayed.
    const order = pricedOrder([{ product_code: 'classic-box', quantity: 2 }]);
    const connection = inventory.service.host.broker.connection;
    const exchange = inventory.exchange.name;
    const event = orderEvent(OrderEvents.created, order);
    const channel = await connection.acquire();
    await channel.basicPublish(
      {
        routingKey: `${exchange}.inventory.dlq`,
        messageId: event.id,
        headers: { 'x-attempt': 3, 'x-original-routing-key': OrderEvents.created },
        contentType: 'application/json',
      },
      Buffer.from(JSON.stringify(event)),
    );
    await channel.close();
    // Published without a confirm: the replay counts the letters there when it begins, so wait to see it.
    await waitFor('the letter in the queue', async () =>
      (await listDeadLetters(connection, exchange, 'inventory')).some(
        (letter) => letter.messageId === event.id,
      ),
    );
    await replayDeadLetters(connection, exchange, 'inventory');
    await waitFor('events', () => eventsFor(order.order_id).length === 1);
    expect(eventsFor(order.order_id)[0]?.routingKey).toBe(InventoryEvents.reserved);
  });
});
