import { Connection } from 'rabbitmq-client';
import { brokerAddresses, listDeadLetters } from '@platform/messaging';
import { SUBSCRIPTIONS } from '@platform/contracts';
import type { ServiceName } from '../isolated-system.js';
import type {
  Observations,
  ObservedCharge,
  ObservedDeadLetter,
  ObservedOrder,
  ObservedStock,
} from './checks.js';
import { getJson } from './system-probes.js';

// Requests at once while reading every order's charge and notifications: quick, and light on the system.
const READ_CONCURRENCY = 16;

/** Where the chaos run reads what the system shows. */
export interface ObservedSystem {
  serviceUrls: Record<ServiceName, string>;
  gatewayUrl: string;
  rabbitmqUrl: string;
  exchange: string;
  /** An operator's bearer token: listing every customer's orders is an operator's right (SPEC §4.10). */
  operatorToken: string;
}

/** Reads a JSON query API; throws when it does not answer (a check run on half the data would lie). */
async function read(url: string, token?: string): Promise<{ status: number; body: unknown }> {
  const answer = await getJson(url, token);
  if (!answer) throw new Error(`${url} did not answer`);
  return answer;
}

/** Every product's stock (`GET /stock` of the inventory service). */
export async function readStock(system: ObservedSystem): Promise<ObservedStock[]> {
  return (await read(`${system.serviceUrls.inventory}/stock`, system.operatorToken)).body as ObservedStock[];
}

/** Every order, all pages of `GET /orders` (newest first). */
export async function readOrders(system: ObservedSystem): Promise<ObservedOrder[]> {
  const orders: ObservedOrder[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const page = (await read(`${system.serviceUrls.order}/orders?limit=100${query}`, system.operatorToken))
      .body as {
      items: ObservedOrder[];
      next_cursor: string | null;
    };
    orders.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor !== null);
  return orders;
}

/** Whether no order is PENDING (`GET /orders?status=PENDING`); false when the service does not answer. */
export async function noOrderPending(system: ObservedSystem): Promise<boolean> {
  const page = await getJson(
    `${system.serviceUrls.order}/orders?status=PENDING&limit=1`,
    system.operatorToken,
  );
  return page?.status === 200 && (page.body as { items: unknown[] }).items.length === 0;
}

/** What the payment gateway recorded for each order, and each order's notification kinds. */
export async function readEffects(
  system: ObservedSystem,
  orderIds: readonly string[],
): Promise<{
  charges: Map<string, ObservedCharge | undefined>;
  notificationKinds: Map<string, string[]>;
}> {
  const charges = new Map<string, ObservedCharge | undefined>();
  const notificationKinds = new Map<string, string[]>();
  let next = 0;
  const worker = async () => {
    for (let id = orderIds[next++]; id !== undefined; id = orderIds[next++]) {
      const [charge, notifications] = await Promise.all([
        read(`${system.gatewayUrl}/charges/${id}`),
        read(`${system.serviceUrls.notification}/notifications?order_id=${id}`, system.operatorToken),
      ]);
      charges.set(id, charge.status === 404 ? undefined : (charge.body as ObservedCharge));
      notificationKinds.set(
        id,
        Array.isArray(notifications.body)
          ? (notifications.body as { kind: string }[]).map((notification) => notification.kind)
          : [],
      );
    }
  };
  await Promise.all(Array.from({ length: READ_CONCURRENCY }, worker));
  return { charges, notificationKinds };
}

/** Every service's dead letters, left in their queues (`npm run dlq -- list` reads them the same way). */
export async function readDeadLetters(system: ObservedSystem): Promise<ObservedDeadLetter[]> {
  const connection = new Connection({
    ...brokerAddresses(system.rabbitmqUrl),
    retryLow: 100,
    retryHigh: 1_000,
  });
  connection.on('error', () => undefined);
  try {
    const letters: ObservedDeadLetter[] = [];
    for (const service of Object.keys(SUBSCRIPTIONS)) {
      for (const letter of await listDeadLetters(connection, system.exchange, service)) {
        letters.push({
          service,
          routingKey: letter.routingKey,
          orderId: letter.correlationId,
          lastError: letter.lastError,
        });
      }
    }
    return letters;
  } finally {
    await connection.close();
  }
}

/** Whether the system is idle: no order PENDING and nothing reserved; false when it does not answer. */
export async function isIdle(system: ObservedSystem): Promise<boolean> {
  if (!(await noOrderPending(system))) return false;
  return readStock(system).then(
    (levels) => levels.every((level) => level.reserved === 0),
    () => false,
  );
}

/**
 * What `judge` reads from an idle system: every order, each one's charge and notifications, the stock and
 * every service's dead letters (the run itself knows the rest: what was accepted, the stock before, the
 * faults).
 */
export async function observeIdleSystem(
  system: ObservedSystem,
): Promise<Pick<Observations, 'orders' | 'charges' | 'notificationKinds' | 'stockAfter' | 'deadLetters'>> {
  const orders = await readOrders(system);
  const stockAfter = await readStock(system);
  const { charges, notificationKinds } = await readEffects(
    system,
    orders.map((order) => order.id),
  );
  return { orders, charges, notificationKinds, stockAfter, deadLetters: await readDeadLetters(system) };
}
