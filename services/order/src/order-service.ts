import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Broker, EventConsumer } from '@platform/messaging';
import type { Logger } from '@platform/observability';
import type { Pool } from '@platform/postgres';
import { openServiceHost, type LeaseWorker } from '@platform/service-host';
import { buildApp } from './app.js';
import type { OrderConfig } from './config.js';
import type { OrderDatabase } from './database.js';
import { startEnrichmentWorker } from './enrichment/enrichment-worker.js';
import { createGuardedCall } from './enrichment/guarded-calls.js';
import { createProductClient, createUserClient } from './enrichment/third-parties.client.js';
import { createThirdPartyMetrics, type ThirdPartyMetrics } from './enrichment/third-parties.metrics.js';
import { createOrderIntake } from './orders/order-intake.js';
import { sagaEventHandler } from './saga/saga-events.js';
import { startSagaDeadline } from './saga/saga-deadline.js';
import { createSagaMetrics } from './saga/saga.metrics.js';

/** A wired order service: its HTTP app (not listening yet) and the parts that run beside it. */
export interface OrderService {
  app: FastifyInstance;
  pool: Pool;
  broker: Broker;
  consumer: EventConsumer;
  /** Stops taking requests, lets those in flight finish, then stops the workers and closes connections. */
  stop(): Promise<void>;
}

/** Prepares the database (created if missing, migrated) and wires every part of the service. */
export async function createOrderService(config: OrderConfig, logger: Logger): Promise<OrderService> {
  const host = await openServiceHost<OrderDatabase>({
    service: 'order',
    config,
    moduleUrl: import.meta.url,
    logger,
  });
  const { db, pool, broker, registry } = host;
  const consumer = host.consume(sagaEventHandler(db));
  const deadline = startSagaDeadline({ db, logger, ...config.saga });
  createSagaMetrics(registry, db);
  const enrichment = startEnrichment(config.enrichment, db, logger, createThirdPartyMetrics(registry));
  const intake = createOrderIntake(db, config.intake);
  const app = await buildApp({ db, pool, broker, intake, logger, registry });

  return {
    app,
    pool,
    broker,
    consumer,
    async stop() {
      await app.close();
      await enrichment?.stop();
      await deadline.stop();
      await host.stop();
    },
  };
}

/** Starts pricing orders from the user and product services, unless this instance is intake-only. */
function startEnrichment(
  config: OrderConfig['enrichment'],
  db: Kysely<OrderDatabase>,
  logger: Logger,
  metrics: ThirdPartyMetrics,
): LeaseWorker | undefined {
  if (config.concurrency === 0) return undefined;
  const guard = (dependency: string) =>
    createGuardedCall({
      dependency,
      metrics,
      callTimeoutMs: config.callTimeoutMs,
      ...config.bulkhead,
      breakerThreshold: config.breaker.threshold,
      breakerOpenMs: config.breaker.openMs,
    });
  return startEnrichmentWorker({
    db,
    logger,
    metrics,
    products: createProductClient({
      baseUrl: config.productServiceUrl,
      guard: guard('product'),
      cacheTtlMs: config.productCacheTtlMs,
      metrics,
    }),
    users: createUserClient({ baseUrl: config.userServiceUrl, guard: guard('user') }),
    deadlineMs: config.deadlineMs,
    retry: config.retry,
    concurrency: config.concurrency,
    // Longer than any one order can take (its deadline plus a last call), so a live worker never loses it.
    leaseMs: config.deadlineMs + config.callTimeoutMs + 5_000,
    pollIntervalMs: config.pollIntervalMs,
  });
}
