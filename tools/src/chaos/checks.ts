import type { InjectedFault } from './faults.js';

/** An order as `GET /orders` lists it (the fields the checks read). */
export interface ObservedOrder {
  id: string;
  status: 'PENDING' | 'COMPLETED' | 'CANCELLED';
  reason: string | null;
  total_amount: number | null;
  items: { product_code: string; quantity: number }[];
}

/** A product's stock as `GET /stock` shows it, in units. */
export interface ObservedStock {
  product_code: string;
  available: number;
  reserved: number;
  sold: number;
}

/** What the payment gateway recorded for an order (`GET /charges/{order_id}`): the ground truth for money. */
export interface ObservedCharge {
  charge: { amount: number } | null;
  refund: { amount: number } | null;
}

/** A dead letter as the chaos run reports it. */
export interface ObservedDeadLetter {
  service: string;
  routingKey: string;
  orderId: string | undefined;
  lastError: string | undefined;
}

/** Everything the checks judge, read through the services' and the simulators' public APIs. */
export interface Observations {
  /** Orders answered `201`. */
  acceptedIds: readonly string[];
  /** Every order the order service has, accepted or not (a request cut off by a kill may have stored one). */
  orders: readonly ObservedOrder[];
  /** By order id; undefined when the gateway never saw the order. */
  charges: ReadonlyMap<string, ObservedCharge | undefined>;
  /** The kinds of each order's notifications, by order id, one entry per notification. */
  notificationKinds: ReadonlyMap<string, readonly string[]>;
  stockBefore: readonly ObservedStock[];
  stockAfter: readonly ObservedStock[];
  deadLetters: readonly ObservedDeadLetter[];
  faults: readonly InjectedFault[];
}

/** One check: whether it held, a one-line summary, and the first violations found. */
export interface CheckResult {
  name: string;
  ok: boolean;
  summary: string;
  violations: string[];
}

const SHOWN_VIOLATIONS = 10;
const cents = (amount: number): number => Math.round(amount * 100);

/**
 * SPEC §4 judged on what the system shows once idle after the chaos: liveness (every order final),
 * effects once (net charge equal to the total of a completed order and 0 for a cancelled one, at most one
 * notification per order and kind, units sold equal to the units of completed orders), conservation
 * (available + reserved + sold unchanged, nothing left reserved), no dead letters, and a recovery from
 * every fault. Pure: the observations are gathered elsewhere.
 */
export function judge(observed: Observations): CheckResult[] {
  return [
    checkFinal(observed),
    checkMoney(observed),
    checkNotifications(observed),
    checkStock(observed),
    checkDeadLetters(observed),
    checkRecoveries(observed),
  ];
}

function result(name: string, summary: string, violations: string[]): CheckResult {
  return {
    name,
    ok: violations.length === 0,
    summary: violations.length === 0 ? summary : `${violations.length} violation(s); ${summary}`,
    violations: violations.slice(0, SHOWN_VIOLATIONS),
  };
}

function checkFinal({ acceptedIds, orders }: Observations): CheckResult {
  const byId = new Map(orders.map((order) => [order.id, order]));
  const violations: string[] = [];
  for (const id of acceptedIds) {
    if (!byId.has(id)) violations.push(`order ${id} was accepted (201) but is not stored`);
  }
  for (const order of orders) {
    if (order.status === 'PENDING') violations.push(`order ${order.id} is still PENDING`);
  }
  const accepted = new Set(acceptedIds);
  const unanswered = orders.filter((order) => !accepted.has(order.id)).length;
  const counts = countBy(orders, (order) =>
    order.status === 'CANCELLED' ? `CANCELLED ${order.reason ?? '?'}` : order.status,
  );
  return result(
    'every order final',
    `${acceptedIds.length} accepted, ${unanswered} more stored whose answer was lost; ${describeCounts(counts)}`,
    violations,
  );
}

function checkMoney({ orders, charges }: Observations): CheckResult {
  const violations: string[] = [];
  let charged = 0;
  for (const order of orders) {
    const record = charges.get(order.id);
    const net = cents(record?.charge?.amount ?? 0) - cents(record?.refund?.amount ?? 0);
    const expected = order.status === 'COMPLETED' ? cents(order.total_amount ?? Number.NaN) : 0;
    if (order.status === 'PENDING') continue;
    if (net !== expected) {
      violations.push(
        `order ${order.id} ${order.status}: net charge ${net / 100}, expected ${expected / 100}`,
      );
    }
    if (net > 0) charged += 1;
  }
  return result('net charge exact', `${charged} orders charged, every other one charged 0 net`, violations);
}

function checkNotifications({ notificationKinds }: Observations): CheckResult {
  const violations: string[] = [];
  let total = 0;
  for (const [id, kinds] of notificationKinds) {
    total += kinds.length;
    const seen = new Set<string>();
    for (const kind of kinds) {
      if (seen.has(kind)) violations.push(`order ${id}: two ${kind} notifications`);
      seen.add(kind);
    }
  }
  return result('one notification per (order, kind)', `${total} notifications`, violations);
}

function checkStock({ orders, stockBefore, stockAfter }: Observations): CheckResult {
  const violations: string[] = [];
  const soldByOrders = new Map<string, number>();
  for (const order of orders) {
    if (order.status !== 'COMPLETED') continue;
    for (const item of order.items) {
      soldByOrders.set(item.product_code, (soldByOrders.get(item.product_code) ?? 0) + item.quantity);
    }
  }
  const after = new Map(stockAfter.map((level) => [level.product_code, level]));
  for (const before of stockBefore) {
    const level = after.get(before.product_code);
    if (!level) {
      violations.push(`${before.product_code} is gone from the stock`);
      continue;
    }
    const total = (s: ObservedStock) => s.available + s.reserved + s.sold;
    if (total(level) !== total(before)) {
      violations.push(
        `${level.product_code}: available + reserved + sold = ${total(level)}, was ${total(before)}`,
      );
    }
    if (level.reserved !== 0) violations.push(`${level.product_code}: ${level.reserved} still reserved`);
    const sold = level.sold - before.sold;
    const expected = soldByOrders.get(level.product_code) ?? 0;
    if (sold !== expected) {
      violations.push(`${level.product_code}: ${sold} sold, but completed orders hold ${expected}`);
    }
  }
  const sold =
    stockAfter.reduce((sum, level) => sum + level.sold, 0) -
    stockBefore.reduce((sum, level) => sum + level.sold, 0);
  return result(
    'stock conserved',
    `${stockBefore.length} products, ${sold} units sold, none reserved`,
    violations,
  );
}

function checkDeadLetters({ deadLetters }: Observations): CheckResult {
  return result(
    'no dead letters',
    'every dead-letter queue empty',
    deadLetters.map(
      (letter) =>
        `${letter.service}: ${letter.routingKey} of order ${letter.orderId ?? '?'}: ${letter.lastError ?? 'no reason recorded'}`,
    ),
  );
}

function checkRecoveries({ faults }: Observations): CheckResult {
  const violations = faults.flatMap((fault) =>
    fault.recoveries
      .filter((recovery) => recovery.ms === null)
      .map((recovery) => `${fault.description}: ${recovery.what} never happened`),
  );
  const recoveries = faults.flatMap((fault) => fault.recoveries).length;
  return result(
    'recovered from every fault',
    `${faults.length} faults, ${recoveries} recoveries measured`,
    violations,
  );
}

function countBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(keyOf(item), (counts.get(keyOf(item)) ?? 0) + 1);
  return counts;
}

/** `COMPLETED 120, CANCELLED out_of_stock 3`, most frequent first. */
export function describeCounts(counts: ReadonlyMap<string, number> | Record<string, number>): string {
  const entries = counts instanceof Map ? [...counts] : Object.entries(counts);
  return entries
    .sort((a, b) => b[1] - a[1])
    .map(([key, count]) => `${key} ${count}`)
    .join(', ');
}
