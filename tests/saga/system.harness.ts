import type { FastifyInstance } from 'fastify';
import { createLogger, type Logger } from '@platform/observability';
import {
  seedProfile,
  startFulfilmentPartner,
  startPaymentGateway,
  startProductSimulator,
  startUserSimulator,
  type RunningSimulator,
} from '@platform/simulators';
import {
  operatorToken,
  waitFor,
  createTestDatabase,
  createTestExchange,
  testServiceEnv,
  type TestDatabase,
  type TestExchange,
} from '@platform/testing';
import { createFulfilmentService, loadFulfilmentConfig } from '@services/fulfilment';
import { createInventoryService, loadInventoryConfig } from '@services/inventory';
import { createNotificationService, loadNotificationConfig } from '@services/notification';
import { createOrderService, loadOrderConfig } from '@services/order';
import { createPaymentService, loadPaymentConfig } from '@services/payment';

export type ServiceName = 'order' | 'inventory' | 'payment' | 'fulfilment' | 'notification';
const SERVICES: readonly ServiceName[] = ['order', 'inventory', 'payment', 'fulfilment', 'notification'];

interface RunningService {
  app: FastifyInstance;
  consumer: { ready: Promise<void> };
  stop(): Promise<void>;
}

/** What the third parties decide, switchable per test: `random` answers for the gateway and the partner. */
export interface Chance {
  payment: () => number;
  fulfilment: () => number;
}

/** The whole system in one test process: five services, four simulators, real PostgreSQL and RabbitMQ. */
export interface TestSystem {
  urls: Record<ServiceName, string>;
  gatewayUrl: string;
  partnerUrl: string;
  chance: Chance;
  exchange: TestExchange;
  databases: Record<ServiceName, TestDatabase>;
  /** Stops one service as SIGTERM would (in-flight work finishes, nothing is lost). */
  stop(name: ServiceName): Promise<void>;
  /** Starts a stopped service again on the same database, queue and port. */
  start(name: ServiceName): Promise<void>;
  remove(): Promise<void>;
}

/** Timings short enough for tests, in the order the saga needs them: each step's deadline within the saga's. */
const TEST_TIMINGS = {
  ENRICHMENT_DEADLINE_MS: '4000',
  ENRICHMENT_CALL_TIMEOUT_MS: '800',
  ENRICHMENT_RETRY_BASE_MS: '50',
  ENRICHMENT_RETRY_MAX_MS: '400',
  SAGA_DEADLINE_MS: '12000',
  SAGA_SWEEP_INTERVAL_MS: '200',
  PAYMENT_RETRY_BASE_MS: '20',
  PAYMENT_RETRY_MAX_MS: '200',
  PAYMENT_POLL_INTERVAL_MS: '50',
  FULFILMENT_PLACEMENT_DEADLINE_MS: '2500',
  FULFILMENT_RETRY_BASE_MS: '20',
  FULFILMENT_RETRY_MAX_MS: '200',
  FULFILMENT_POLL_INTERVAL_MS: '50',
};

export async function startTestSystem(prefix: string, env: Record<string, string> = {}): Promise<TestSystem> {
  const exchange = await createTestExchange(prefix);
  const databases = {} as Record<ServiceName, TestDatabase>;
  for (const name of SERVICES) databases[name] = await createTestDatabase(`${prefix}_${name}`);
  const chance: Chance = { payment: () => 0.5, fulfilment: () => 0.5 };
  const simulators: RunningSimulator[] = [
    await startProductSimulator({ port: 0, products: seedProfile.products }),
    await startUserSimulator({ port: 0, users: seedProfile.users }),
    await startPaymentGateway({ port: 0, behaviour: seedProfile.payment, random: () => chance.payment() }),
    await startFulfilmentPartner({
      port: 0,
      behaviour: { ...seedProfile.fulfilment, delayMs: 50 },
      random: () => chance.fulfilment(),
    }),
  ];
  const [product, user, gateway, partner] = simulators.map((simulator) => simulator.url);
  const ports = Object.fromEntries(SERVICES.map((name) => [name, '0'])) as Record<ServiceName, string>;

  // Each service's test variables, on the port it had (a restart comes back on it), and the simulators.
  const environment = (): Record<string, string> => ({
    ...Object.fromEntries(
      SERVICES.flatMap((name) =>
        Object.entries({
          ...testServiceEnv(name.toUpperCase(), databases[name], exchange),
          [`${name.toUpperCase()}_PORT`]: ports[name],
        }),
      ),
    ),
    ORDER_PRODUCT_SERVICE_URL: product ?? '',
    ORDER_USER_SERVICE_URL: user ?? '',
    PAYMENT_GATEWAY_URL: gateway ?? '',
    FULFILMENT_PARTNER_URL: partner ?? '',
    ...TEST_TIMINGS,
    ...env,
  });

  const create = (name: ServiceName, logger: Logger): Promise<RunningService> => {
    const e = environment();
    switch (name) {
      case 'order':
        return createOrderService(loadOrderConfig(e), logger);
      case 'inventory':
        return createInventoryService(loadInventoryConfig(e), logger);
      case 'payment':
        return createPaymentService(loadPaymentConfig(e), logger);
      case 'fulfilment':
        return createFulfilmentService(loadFulfilmentConfig(e), logger);
      case 'notification':
        return createNotificationService(loadNotificationConfig(e), logger);
    }
  };

  const running = new Map<ServiceName, RunningService>();
  const urls = {} as Record<ServiceName, string>;
  async function start(name: ServiceName): Promise<void> {
    const logger = createLogger({ service: name, level: process.env.TEST_LOG_LEVEL ?? 'silent' });
    const service = await create(name, logger);
    urls[name] = await service.app.listen({ host: '127.0.0.1', port: Number(ports[name]) });
    // A restart comes back on the same port, as an operator's would.
    ports[name] = new URL(urls[name]).port;
    await service.consumer.ready;
    running.set(name, service);
  }
  async function stop(name: ServiceName): Promise<void> {
    await running.get(name)?.stop();
    running.delete(name);
  }

  // Consumers first, the order service last: every queue exists before the first order comes in.
  for (const name of [...SERVICES].reverse()) await start(name);

  return {
    urls,
    gatewayUrl: gateway ?? '',
    partnerUrl: partner ?? '',
    chance,
    exchange,
    databases,
    stop,
    start,
    async remove() {
      for (const name of SERVICES) await stop(name).catch(() => undefined);
      await Promise.all(simulators.map((simulator) => simulator.close()));
      await exchange.remove();
      for (const name of SERVICES) await databases[name].drop();
    },
  };
}

/** JSON over HTTP, with the status; the caller names the shape it expects (a test, which fails if wrong). */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
export async function http<T = Record<string, unknown>>(
  url: string,
  init: { method?: string; body?: unknown; token?: string } = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
}

/** An order as `GET /orders/{id}` shows it. */
export interface OrderView {
  id: string;
  status: 'PENDING' | 'COMPLETED' | 'CANCELLED';
  reason: string | null;
  total_amount: number | null;
  customer_fullname: string | null;
  items: { product_code: string; quantity: number; product_name: string | null; unit_price: number | null }[];
  timeline: { step: string; at: string; reason?: string; after_final?: boolean }[];
}

export interface StockLevel {
  product_code: string;
  available: number;
  reserved: number;
  sold: number;
}

/** What the payment gateway itself recorded for an order (the ground truth for money). */
export interface GatewayRecord {
  charge: { amount: number } | null;
  refund: { amount: number } | null;
}

/** The questions scenario tests ask of a running system. */
export function ask(system: TestSystem) {
  return {
    async placeOrder(body: unknown, path = '/api/orders'): Promise<string> {
      const response = await http<{ id: string }>(`${system.urls.order}${path}`, { body });
      if (response.status !== 201) throw new Error(`POST ${path} answered ${response.status}`);
      return response.body.id;
    },
    async order(id: string): Promise<OrderView> {
      return (await http<OrderView>(`${system.urls.order}/orders/${id}`)).body;
    },
    /** Waits until the order is COMPLETED or CANCELLED, and returns it. */
    async finalOrder(id: string, timeoutMs = 25_000): Promise<OrderView> {
      return waitFor(
        `order ${id} final`,
        async () => {
          const order = (await http<OrderView>(`${system.urls.order}/orders/${id}`)).body;
          return order.status === 'PENDING' ? undefined : order;
        },
        timeoutMs,
      );
    },
    async stock(productCode: string): Promise<StockLevel> {
      return (
        await http<StockLevel>(`${system.urls.inventory}/stock/${productCode}`, {
          token: await operatorToken(),
        })
      ).body;
    },
    async allStock(): Promise<StockLevel[]> {
      return (await http<StockLevel[]>(`${system.urls.inventory}/stock`, { token: await operatorToken() }))
        .body;
    },
    /** Charged minus refunded at the gateway for this order (0 when it was never charged). */
    async netCharged(id: string): Promise<number> {
      const response = await http<GatewayRecord>(`${system.gatewayUrl}/charges/${id}`);
      if (response.status === 404) return 0;
      return (response.body.charge?.amount ?? 0) - (response.body.refund?.amount ?? 0);
    },
    async gateway(id: string): Promise<GatewayRecord | undefined> {
      const response = await http<GatewayRecord>(`${system.gatewayUrl}/charges/${id}`);
      return response.status === 404 ? undefined : response.body;
    },
    async notificationKinds(id: string): Promise<string[]> {
      const response = await http<{ kind: string }[]>(
        `${system.urls.notification}/notifications?order_id=${id}`,
        { token: await operatorToken() },
      );
      return response.body.map((notification) => notification.kind).sort();
    },
  };
}
