import { authenticate, createTokenVerifier } from '@platform/auth';
import type { FastifyInstance } from 'fastify';
import type { EventConsumer } from '@platform/messaging';
import type { Logger } from '@platform/observability';
import { buildServiceApp } from '@platform/http-shell';
import { handleSagaEvents, openServiceHost, type ServiceHost } from '@platform/service-host';
import type { PaymentConfig } from './config.js';
import type { PaymentDatabase } from './database.js';
import { applyPaymentEvents, loadPayments, PAYMENT_EVENT_TYPES } from './payments/apply-payment-events.js';
import { createPaymentGatewayClient } from './payments/payment-gateway.client.js';
import { startPaymentWorker } from './payments/payment-worker.js';
import { paymentRoutes } from './payments/payments.routes.js';

/** A wired payment service: its HTTP app (not listening yet) and what runs beside it. */
export interface PaymentService {
  app: FastifyInstance;
  host: ServiceHost<PaymentDatabase, 'payment'>;
  consumer: EventConsumer;
  stop(): Promise<void>;
}

/**
 * Prepares the database, starts the payment worker and consumes events; the caller decides where to
 * listen.
 */
export async function createPaymentService(config: PaymentConfig, logger: Logger): Promise<PaymentService> {
  const host = await openServiceHost<PaymentDatabase, 'payment'>({
    service: 'payment',
    config,
    moduleUrl: import.meta.url,
    logger,
  });
  const { db } = host;
  const gateway = createPaymentGatewayClient({
    baseUrl: config.payment.gatewayUrl,
    timeoutMs: config.payment.callTimeoutMs,
    connections: config.payment.concurrency,
  });
  const worker = startPaymentWorker({
    db,
    transact: host.transact,
    gateway,
    settings: config.payment,
    logger,
    registry: host.registry,
  });
  // The handlers only record what is to be done, leased to this instance; once they commit, its worker
  // calls the gateway.
  const consumer = host.consume(
    handleSagaEvents({
      logger,
      transact: host.transact,
      consumer: 'payment',
      types: PAYMENT_EVENT_TYPES,
      load: (trx, events) =>
        loadPayments(
          trx,
          events.map((event) => event.envelope.correlation_id),
        ),
      apply: (trx, events, states) => applyPaymentEvents(trx, events, states, config.payment.leaseMs),
      afterCommit(applied) {
        worker.submit(applied.flatMap(({ result }) => (result.handOff ? [result.handOff] : [])));
      },
    }),
  );
  const app = await buildServiceApp({ ...host, logger });
  // The query API, behind the bearer-token guard: operators only, in both modes (SPEC §4.10).
  await app.register(async (guarded) => {
    await guarded.register(authenticate, {
      mode: config.auth.mode,
      verify: createTokenVerifier(config.auth),
      defaultAccess: 'operator',
    });
    await guarded.register(paymentRoutes, { db });
  });
  return {
    app,
    host,
    consumer,
    async stop() {
      await app.close();
      await worker.stop();
      await gateway.close();
      await host.stop();
    },
  };
}
