import fastifyRateLimit from '@fastify/rate-limit';
import { authenticate, createTokenVerifier } from '@platform/auth';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Broker, EventConsumer } from '@platform/messaging';
import type { Logger } from '@platform/observability';
import type { Pool } from '@platform/postgres';
import { buildServiceApp } from '@platform/http-shell';
import type { LeaseWorker } from '@platform/lease-worker';
import { handleSagaEvents, openServiceHost, type Transact } from '@platform/service-host';
import type { OrderConfig } from './config.js';
import type { OrderDatabase } from './database.js';
import { startEnrichmentWorker } from './enrichment/enrichment-worker.js';
import { createGuardedCall } from './enrichment/guarded-calls.js';
import { createProductClient, createUserClient } from './enrichment/third-parties.client.js';
import { createThirdPartyMetrics, type ThirdPartyMetrics } from './enrichment/third-parties.metrics.js';
import { createAdmissionControl } from './orders/admission-control.js';
import { CustomerRateStore } from './orders/customer-rate.store.js';
import { createOrderIntake } from './orders/order-intake.js';
import { createOrderMetrics, type OrderMetrics } from './orders/order.metrics.js';
import { ordersRoutes } from './orders/orders.routes.js';
import { SAGA_EVENT_TYPES } from './orders/order-state-machine.js';
import { applySagaEvents, loadOrders } from './saga/apply-saga-events.js';
import { startSagaDeadline } from './saga/saga-deadline.js';
import { createSagaMetrics } from './saga/saga.metrics.js';
import { countOrdersInFlight } from './saga/saga.repository.js';
import type { Order } from './orders/order.js';

/**
 * How often, at most, the orders in flight are counted while orders arrive, in ms. Near the bound, a tenth
 * of a second of new orders (50 at 500 orders/s) is what it can be overshot by; within half of it, where a
 * stale count cannot reach it, once a second (at ten orders a second the count had been a query per order,
 * issue 21).
 */
const ADMISSION_REFRESH_MS = { far: 1_000, near: 100 };

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
  const host = await openServiceHost<OrderDatabase, 'order'>({
    service: 'order',
    config,
    moduleUrl: import.meta.url,
    logger,
  });
  const { db, pool, broker, registry, transact } = host;
  const orderMetrics = createOrderMetrics(registry);
  const consumer = host.consume(
    handleSagaEvents({
      logger,
      transact,
      consumer: 'order',
      types: SAGA_EVENT_TYPES,
      load: loadOrders,
      apply: applySagaEvents,
      // One line per order at its end: what an operator follows the saga by.
      afterCommit(applied) {
        orderMetrics.observe(applied.flatMap(({ result }) => (result.transition ? [result.transition] : [])));
        for (const { event, result } of applied) {
          if (result.outcome === 'completed') event.logger.info('order completed');
          else if (result.outcome === 'cancelled')
            event.logger.info({ reason: result.transition?.after.reason }, 'order cancelled');
        }
      },
    }),
  );
  const deadline = startSagaDeadline({ db, transact, logger, metrics: orderMetrics, ...config.saga });
  createSagaMetrics(registry, db);
  const enrichment = startEnrichment(
    config.enrichment,
    db,
    transact,
    logger,
    createThirdPartyMetrics(registry),
    orderMetrics,
  );
  const admission = createAdmissionControl({
    maxInFlight: config.maxInFlight,
    maxLoopDelayMs: config.maxLoopDelayMs,
    maxInFlightPerCustomer: config.customerLimits.maxInFlightPerCustomer,
    countInFlight: (atLeast) => countOrdersInFlight(db, atLeast),
    refreshMs: ADMISSION_REFRESH_MS,
    retryAfterS: 1,
    registry,
    onCountFailed: (error) => logger.warn({ err: error }, 'could not count the orders in flight'),
  });
  const intake = createOrderIntake(
    transact,
    // No interval between intake transactions: a client waits for its 201, and concurrent requests share
    // a transaction anyway.
    config.intake,
    enrichment && { leaseMs: enrichment.leaseMs, submit: (orders) => enrichment.worker.submit(orders) },
    admission,
  );
  const app = await buildServiceApp({
    logger,
    registry,
    pool,
    broker,
    docs: {
      title: 'Order API',
      description: 'Places orders and shows how each one is carried to COMPLETED or CANCELLED.',
    },
  });
  const routes = {
    db,
    transact,
    intake,
    admission,
    metrics: orderMetrics,
    authMode: config.auth.mode,
    customerRate: config.customerLimits.rate,
  };
  // The orders' routes, behind the bearer-token guard; health, metrics and docs stay outside it.
  await app.register(async (guarded) => {
    await guarded.register(authenticate, {
      mode: config.auth.mode,
      verify: createTokenVerifier(config.auth),
      defaultAccess: 'customer',
    });
    // Per-customer rates (SPEC §4.9), counted in this instance's memory: with n instances behind a
    // balancer a customer gets up to n times the rate (a shared store, @fastify/rate-limit's Redis one,
    // would make it exact at a round trip per request).
    await guarded.register(fastifyRateLimit, { global: false, store: CustomerRateStore });
    await guarded.register(ordersRoutes, { prefix: '/orders', ...routes });
    // Seed 002's clients call the same routes under /api/orders; their copies stay out of the docs.
    await guarded.register(ordersRoutes, { prefix: '/api/orders', ...routes, hideFromDocs: true });
  });

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
  transact: Transact<OrderDatabase>,
  logger: Logger,
  metrics: ThirdPartyMetrics,
  orderMetrics: OrderMetrics,
): { worker: LeaseWorker<Order>; leaseMs: number; stop(): Promise<void> } | undefined {
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
  const products = createProductClient({
    baseUrl: config.productServiceUrl,
    guard: guard('product'),
    cacheTtlMs: config.productCacheTtlMs,
    metrics,
  });
  const users = createUserClient({ baseUrl: config.userServiceUrl, guard: guard('user') });
  // Longer than any one order can take (its deadline plus a last call), so a live worker never loses it.
  const leaseMs = config.deadlineMs + config.callTimeoutMs + 5_000;
  const worker = startEnrichmentWorker({
    db,
    transact,
    logger,
    orderMetrics,
    metrics,
    products,
    users,
    deadlineMs: config.deadlineMs,
    retry: config.retry,
    concurrency: config.concurrency,
    leaseMs,
    pollIntervalMs: config.pollIntervalMs,
  });
  return {
    worker,
    leaseMs,
    async stop() {
      await worker.stop();
      await Promise.all([products.close(), users.close()]);
    },
  };
}
