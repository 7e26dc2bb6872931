import { randomUUID } from 'node:crypto';
import { OrderEvents, PaymentEvents, type OrderSnapshot } from '@platform/contracts';
import { createLogger } from '@platform/observability';
import { startFulfilmentPartner, type Placement } from '@platform/simulators';
import {
  createTestDatabase,
  sagaEvent,
  createTestExchange,
  startTcpProxy,
  type TcpProxy,
  type TestDatabase,
  type TestExchange,
  testServiceEnv,
  operatorHeaders,
} from '@platform/testing';
import { loadFulfilmentConfig, type FulfilmentConfig } from '../src/config.js';
import { createFulfilmentService, type FulfilmentService } from '../src/fulfilment-service.js';

/** Retry settings of the services under test: short, so that retries and deadlines happen within a test. */
export const TEST_RETRY = { baseMs: 10, maxMs: 50 } as const;
export const TEST_DEADLINE_MS = 2_000;

/**
 * The partner simulator as a real HTTP server, whose failures the test decides: a new placement fails at
 * once (seed 001's message) when the test asked for it, and succeeds after `delayMs` otherwise.
 */
export interface TestPartner {
  url: string;
  /** Fails the next `count` new placements. */
  failNext(count: number): void;
  /** Fails every new placement until told otherwise. */
  failAlways(on: boolean): void;
  /** `POST /placements` requests answered so far. */
  posts(): number;
  /** What the partner recorded for an order (`GET /placements/{order_id}`), if anything. */
  placementOf(orderId: string): Promise<Placement | undefined>;
  close(): Promise<void>;
}

/** Starts the partner simulator on a free port; `delayMs` is how long a successful placement takes. */
export async function startTestPartner(delayMs = 20): Promise<TestPartner> {
  let failing = 0;
  let always = false;
  let posts = 0;
  const simulator = await startFulfilmentPartner({
    port: 0,
    behaviour: { failureRate: 0.5, delayMs },
    random: () => {
      if (always) return 0;
      if (failing > 0) {
        failing -= 1;
        return 0;
      }
      return 0.99;
    },
    onRequest: (entry) => {
      if (entry.method === 'POST') posts += 1;
    },
  });
  return {
    url: simulator.url,
    failNext(count) {
      failing = count;
    },
    failAlways(on) {
      always = on;
    },
    posts: () => posts,
    async placementOf(orderId) {
      const response = await fetch(`${simulator.url}/placements/${encodeURIComponent(orderId)}`);
      if (response.status === 404) return undefined;
      return (await response.json()) as Placement;
    },
    close: () => simulator.close(),
  };
}

/** A fulfilment service on a database and exchange of the test's own, with its own partner (via a proxy). */
export interface TestFulfilment {
  service: FulfilmentService;
  baseUrl: string;
  database: TestDatabase;
  exchange: TestExchange;
  partner: TestPartner;
  /** The service's path to the partner, which a test can cut (a partner gone away) and restore. */
  partnerLink: TcpProxy;
  /** Stops the service (as SIGTERM would) and starts a new instance on the same database and exchange. */
  restart(): Promise<void>;
  /** Stops the service without starting another. */
  stop(): Promise<void>;
  /** Starts a new instance after `stop()`. */
  start(): Promise<void>;
  /** Stops the service and removes the database, the exchange and its queues, and the partner. */
  remove(): Promise<void>;
}

/** Starts a fulfilment service, with settings short enough for tests, listening on a free port. */
export async function startTestFulfilment(
  prefix: string,
  env: Record<string, string> = {},
  partnerDelayMs?: number,
): Promise<TestFulfilment> {
  const database = await createTestDatabase(prefix);
  const exchange = await createTestExchange(prefix);
  const partner = await startTestPartner(partnerDelayMs);
  const partnerLink = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(partner.url).port) });
  const config = loadFulfilmentConfig({
    ...testServiceEnv('FULFILMENT', database, exchange),
    FULFILMENT_PARTNER_URL: partnerLink.url(partner.url),
    FULFILMENT_CALL_TIMEOUT_MS: '1000',
    FULFILMENT_PLACEMENT_DEADLINE_MS: String(TEST_DEADLINE_MS),
    FULFILMENT_RETRY_BASE_MS: String(TEST_RETRY.baseMs),
    FULFILMENT_RETRY_MAX_MS: String(TEST_RETRY.maxMs),
    FULFILMENT_POLL_INTERVAL_MS: '50',
    FULFILMENT_LEASE_MS: '5000',
    ...env,
  });
  let running: FulfilmentService | undefined = await launch(config);
  const stack: TestFulfilment = {
    service: running,
    baseUrl: '',
    database,
    exchange,
    partner,
    partnerLink,
    async stop() {
      await running?.stop();
      running = undefined;
    },
    async start() {
      running = await launch(config);
      stack.service = running;
      stack.baseUrl = await running.app.listen(config.http);
    },
    async restart() {
      await stack.stop();
      await stack.start();
    },
    async remove() {
      await stack.stop();
      await partnerLink.close();
      await partner.close();
      await exchange.remove();
      await database.drop();
    },
  };
  stack.baseUrl = await running.app.listen(config.http);
  return stack;
}

async function launch(config: FulfilmentConfig): Promise<FulfilmentService> {
  const service = await createFulfilmentService(
    config,
    createLogger({ service: 'fulfilment', level: config.logLevel }),
  );
  await service.consumer.ready;
  return service;
}

/** A paid order as payment events carry it. */
export function paidOrder(
  items: { product_code: string; quantity: number }[] = [{ product_code: 'product-A', quantity: 2 }],
): OrderSnapshot {
  return {
    order_id: randomUUID(),
    user_id: 'customer-123',
    customer_fullname: 'Grace Hopper',
    product_name: items.map((item) => item.product_code).join(', '),
    total_amount: items.reduce((sum, item) => sum + item.quantity * 50, 0),
    created_at: new Date().toISOString(),
    items: items.map((item) => ({ ...item, product_name: item.product_code, unit_price: 50 })),
  };
}

/** The payment service's event for a charged order. */
export const paymentProcessed = (order: OrderSnapshot) => sagaEvent(PaymentEvents.processed, order);

/** The order service's cancellation of an order. */
export const orderCancelled = (order: OrderSnapshot, reason = 'customer_request') =>
  sagaEvent(OrderEvents.cancelled, order, { reason });

/** `GET /placements/{order_id}` on the service under test. */
export interface PlacementBody {
  order_id: string;
  status: string;
  attempts: number;
  placement_id: string | null;
  last_error: string | null;
  deadline_at: string | null;
  created_at: string;
  updated_at: string;
}

/** The service's view of an order's placement, or undefined on a 404. */
export async function placementOf(baseUrl: string, orderId: string): Promise<PlacementBody | undefined> {
  const response = await fetch(`${baseUrl}/placements/${encodeURIComponent(orderId)}`, {
    headers: await operatorHeaders(),
  });
  if (response.status === 404) return undefined;
  return (await response.json()) as PlacementBody;
}
