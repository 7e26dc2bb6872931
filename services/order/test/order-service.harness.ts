import { createLogger } from '@platform/observability';
import {
  createTestDatabase,
  createTestExchange,
  type CapturedMessage,
  type TestDatabase,
  type TestExchange,
  TEST_AUTH_SECRET,
  TEST_RABBITMQ_URL,
  TEST_RETRY_DELAYS_MS,
  operatorToken,
} from '@platform/testing';
import pg from 'pg';
import { loadOrderConfig } from '../src/config.js';
import { createOrderService, type OrderService } from '../src/order-service.js';

/** A running order service on a database and exchange of the test's own, and a way to look inside. */
export interface TestOrderService {
  service: OrderService;
  baseUrl: string;
  /** Runs SQL on the service's database directly, bypassing the service. */
  sql<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>;
}

/** Starts a service listening on a free port; `databaseUrl`/`rabbitmqUrl` may point through a proxy. */
export async function startOrderService(options: {
  database: TestDatabase;
  exchange: TestExchange;
  databaseUrl?: string;
  rabbitmqUrl?: string;
  env?: Record<string, string>;
}): Promise<TestOrderService> {
  const config = loadOrderConfig({
    ORDER_HOST: '127.0.0.1',
    ORDER_PORT: '0',
    ORDER_DATABASE_URL: options.databaseUrl ?? options.database.url,
    RABBITMQ_URL: options.rabbitmqUrl ?? TEST_RABBITMQ_URL,
    RABBITMQ_EXCHANGE: options.exchange.name,
    OUTBOX_POLL_INTERVAL_MS: '500',
    CONSUMER_RETRY_DELAYS_MS: TEST_RETRY_DELAYS_MS.join(','),
    // Intake-only unless a test asks for enrichment (and starts simulators for it).
    ENRICHMENT_CONCURRENCY: '0',
    // The test runner shares the process: its work would count as the service's loop being behind.
    ORDER_MAX_LOOP_DELAY_MS: '0',
    // Every test calls from 127.0.0.1 as one operator: per-customer limits are tested on their own.
    ORDER_CUSTOMER_RATE_MAX: '0',
    ORDER_CUSTOMER_MAX_IN_FLIGHT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    AUTH_JWT_SECRET: TEST_AUTH_SECRET,
    ...options.env,
  });
  const logger = createLogger({ service: 'order', level: config.logLevel });
  const service = await createOrderService(config, logger);
  const address = await service.app.listen({ host: config.http.host, port: config.http.port });
  const direct = new pg.Pool({ connectionString: options.database.url, max: 2 });
  const originalStop = service.stop.bind(service);
  service.stop = async () => {
    await originalStop();
    await direct.end();
  };
  return {
    service,
    baseUrl: address,
    sql: async <R extends pg.QueryResultRow>(text: string, values?: unknown[]) =>
      (await direct.query<R>(text, values)).rows,
  };
}

/** A database and an exchange for one test file, removed afterwards. */
export async function createTestInfrastructure(prefix: string): Promise<{
  database: TestDatabase;
  exchange: TestExchange;
  remove(): Promise<void>;
}> {
  const database = await createTestDatabase(prefix);
  const exchange = await createTestExchange(prefix);
  return {
    database,
    exchange,
    async remove() {
      await exchange.remove();
      await database.drop();
    },
  };
}

/**
 * An operator's token: what these tests call the API with unless they pass their own `authorization`
 * (the rules of who may do what are tested in auth.test.ts, each with its own tokens).
 */
const operator = operatorToken().then((token) => `Bearer ${token}`);

/** POSTs JSON (or a raw string), as an operator, and returns status, headers and parsed body. */
export async function post(
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: await operator, ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** GETs JSON, as an operator. */
export async function get(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { headers: { authorization: await operator } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Event ids received, each with how many times it arrived. */
export function deliveriesById(messages: readonly CapturedMessage[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const message of messages) {
    const id = (message.body as { id: string }).id;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

export type { CapturedMessage };
