/**
 * bench:intake's API side: the real order service, in process, on a database and an exchange of the
 * bench's own, driven by autocannon.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { createLogger } from '@platform/observability';
import type { Pool } from '@platform/postgres';
import { loadOrderConfig, type OrderConfig } from '../src/config.js';
import { createOrderService, type OrderService } from '../src/order-service.js';
import { summarise, withProcessLoad, type Measurement, type ProcessLoad } from './intake-measurement.js';
import {
  DRAIN_TIMEOUT_MS,
  DURATION_S,
  ORDER_BODY,
  RABBITMQ_URL,
  SERVICE_OVERRIDES,
  WARMUP_S,
} from './intake-settings.js';

/** The order service started by the bench, and where it answers. */
export interface RunningService {
  service: OrderService;
  config: OrderConfig;
  baseUrl: string;
}

/** Starts an intake-only order service on `databaseUrlForService` and `exchange`, listening on a free port. */
export async function startService(databaseUrlForService: string, exchange: string): Promise<RunningService> {
  const overrides = Object.fromEntries(
    SERVICE_OVERRIDES.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]]])),
  ) as Record<string, string>;
  const config = loadOrderConfig({
    ORDER_HOST: '127.0.0.1',
    ORDER_PORT: '0',
    ORDER_DATABASE_URL: databaseUrlForService,
    RABBITMQ_URL,
    RABBITMQ_EXCHANGE: exchange,
    LOG_LEVEL: 'warn',
    // Intake is what is measured: an intake-only instance, as one would scale the API apart from pricing.
    ENRICHMENT_CONCURRENCY: '0',
    // Nothing here ever finishes an order: the bound on orders in flight (SPEC §4.9) would refuse all but
    // the first thousand, so it is lifted; what the bench measures is how fast intake stores them.
    ORDER_MAX_IN_FLIGHT: '1000000000',
    ORDER_INTAKE_MAX_QUEUED: '1000000',
    // One customer from one address stands for all of them: no per-customer limits (SPEC §4.9).
    ORDER_CUSTOMER_RATE_MAX: '0',
    ORDER_CUSTOMER_MAX_IN_FLIGHT: '0',
    ...overrides,
  });
  const logger = createLogger({ service: 'order', level: config.logLevel });
  const service = await createOrderService(config, logger);
  const baseUrl = await service.app.listen({ host: config.http.host, port: config.http.port });
  return { service, config, baseUrl };
}

/** Without a broker the relay never drains the outbox: not the service being measured, so stop early. */
export async function waitForBroker(service: OrderService, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!service.broker.isConnected()) {
    if (Date.now() > deadline) throw new Error(`RabbitMQ at ${RABBITMQ_URL} not reachable`);
    await sleep(100);
  }
}

/** One request by hand first: a service that answers 4xx/5xx would otherwise only show up as a count. */
export async function checkPlaceOrder(baseUrl: string): Promise<void> {
  const response = await fetch(`${baseUrl}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: ORDER_BODY,
  });
  if (response.status !== 201) {
    throw new Error(`POST /orders answered ${response.status}: ${await response.text()}`);
  }
}

/** Runs autocannon; latencies come from its per-response event (sub-millisecond, unlike its histogram). */
function runAutocannon(baseUrl: string, connections: number, durationS: number): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const instance = autocannon(
      {
        url: `${baseUrl}/orders`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: ORDER_BODY,
        connections,
        pipelining: 1,
        duration: durationS,
      },
      (error: unknown, result) => {
        if (error !== null && error !== undefined) {
          reject(error instanceof Error ? error : new Error('autocannon failed', { cause: error }));
          return;
        }
        resolve(summarise(latencies, result.duration, result.non2xx + result.errors + result.timeouts));
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
}

/** The API at `concurrency` connections: a warm-up (its backlog drained), then DURATION_S measured. */
export async function measureApi(
  running: RunningService,
  concurrency: number,
): Promise<{ result: Measurement; load: ProcessLoad }> {
  if (WARMUP_S > 0) {
    await runAutocannon(running.baseUrl, concurrency, WARMUP_S);
    await drainOutbox(running.service.pool);
  }
  return withProcessLoad(() => runAutocannon(running.baseUrl, concurrency, DURATION_S));
}

/** Waits until the relay has published everything, so one run's backlog does not slow down the next. */
export async function drainOutbox(pool: Pool): Promise<void> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  for (;;) {
    const result = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox');
    const backlog = result.rows[0]?.n ?? 0;
    if (backlog === 0) return;
    if (Date.now() > deadline) {
      console.warn(
        `  outbox still holds ${backlog} unpublished rows after ${DRAIN_TIMEOUT_MS / 1000} s; going on`,
      );
      return;
    }
    await sleep(200);
  }
}
