import { Pool } from 'undici';

/** One `POST /orders` answer: when it was sent (ms since the epoch) and its status ('error' without one). */
export interface Answer {
  sentAt: number;
  status: string;
}

/** An order the system accepted (`201`): its id, when it was sent, and the product it is for. */
export interface AcceptedOrder {
  id: string;
  sentAt: number;
  productCode: string;
}

/** Orders sent at a fixed rate whatever the system does, until stopped. */
export interface OpenLoopLoad {
  readonly answers: readonly Answer[];
  readonly accepted: readonly AcceptedOrder[];
  /** Stops sending and waits for the requests still in flight (again: nothing). */
  stop(): Promise<void>;
}

/** One order body the load sends, with the product it is for. */
export interface OrderBody {
  productCode: string;
  json: string;
}

const SEED_USERS = ['7c11e1ce2741', 'e6f24d7d1c7e', 'customer-123'];
const SEED_PRODUCTS = ['classic-box', 'family-box', 'veggie-box', 'product-A', 'product-B', 'product-C'];

/**
 * Every seed user with every seed product (SPEC §6): healthy paths, slow and failing third parties, and,
 * for the products that keep their seed stock (`SCARCE_PRODUCTS`), orders that run out of stock.
 */
export const SEED_ORDER_BODIES: readonly OrderBody[] = SEED_PRODUCTS.flatMap((productCode) =>
  SEED_USERS.map((user) => ({
    productCode,
    json: JSON.stringify({ user_id: user, items: [{ product_code: productCode, quantity: 1 }] }),
  })),
);

/** The products a run leaves at their seed stock (5 and 0), so that some orders run out of stock. */
export const SCARCE_PRODUCTS: readonly string[] = ['product-B', 'product-C'];

// A request that waits this long counts as unanswered: the order service refuses overload at once.
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Sends `POST /orders` open loop: request i at start + i / rate seconds, whether or not earlier ones were
 * answered (a stalled system cannot slow the load down), bodies taken in turn. Every answer is recorded
 * with its status; the ids of accepted orders are what the chaos run checks afterwards.
 */
export function startOpenLoopLoad(options: {
  orderUrl: string;
  rate: number;
  bodies: readonly OrderBody[];
  connections: number;
  /**
   * Each request on a connection of its own, as many independent clients would send them: instances
   * sharing a port are handed connections, not requests, so a few kept-alive connections would all
   * land on one of them.
   */
  connectionPerRequest?: boolean;
}): OpenLoopLoad {
  const pool = new Pool(options.orderUrl, { connections: options.connections, keepAliveTimeout: 10_000 });
  const answers: Answer[] = [];
  const accepted: AcceptedOrder[] = [];
  const inFlight = new Set<Promise<void>>();
  const intervalMs = 1000 / options.rate;
  const started = Date.now();
  let next = 0;
  let stopped = false;

  async function send(index: number): Promise<void> {
    const body = options.bodies[index % options.bodies.length];
    if (!body) return;
    const sentAt = Date.now();
    let status = 'error';
    try {
      const response = await pool.request({
        path: '/orders',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body.json,
        reset: options.connectionPerRequest === true,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      status = String(response.statusCode);
      const text = await response.body.text();
      if (response.statusCode === 201) {
        const { id } = JSON.parse(text) as { id?: unknown };
        if (typeof id === 'string') accepted.push({ id, sentAt, productCode: body.productCode });
      }
    } catch (error) {
      status = (error as Error).name === 'TimeoutError' ? 'timeout' : 'error';
    }
    answers.push({ sentAt, status });
  }

  const timer = setInterval(() => {
    const due = Math.floor((Date.now() - started) / intervalMs);
    for (; next <= due && !stopped; next += 1) {
      const request = send(next);
      inFlight.add(request);
      void request.finally(() => inFlight.delete(request));
    }
  }, 5);

  return {
    answers,
    accepted,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await Promise.all(inFlight);
      await pool.close();
    },
  };
}

/** Answers sent between `from` and `to` (ms since the epoch), counted by status. */
export function countAnswers(answers: readonly Answer[], from: number, to: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const answer of answers) {
    if (answer.sentAt >= from && answer.sentAt < to) counts[answer.status] = (counts[answer.status] ?? 0) + 1;
  }
  return counts;
}
