import type { FastifyInstance } from 'fastify';
import { InventoryEvents, OrderEvents } from '@platform/contracts';
import type { EventConsumer } from '@platform/messaging';
import type { Logger } from '@platform/observability';
import {
  buildServiceApp,
  handleThroughInbox,
  openServiceHost,
  routeEvents,
  type ServiceHost,
} from '@platform/service-host';
import type { PaymentConfig } from './config.js';
import type { PaymentDatabase } from './database.js';
import { cancelPayment } from './payments/cancel-payment.js';
import { createPaymentGatewayClient } from './payments/payment-gateway.client.js';
import { startPaymentWorker } from './payments/payment-worker.js';
import { WORK_CREATED, type PaymentOutcome } from './payments/payment.js';
import { paymentRoutes } from './payments/payments.routes.js';
import { requestCharge } from './payments/request-charge.js';

/** A wired payment service: its HTTP app (not listening yet) and what runs beside it. */
export interface PaymentService {
  app: FastifyInstance;
  host: ServiceHost<PaymentDatabase>;
  consumer: EventConsumer;
  stop(): Promise<void>;
}

/**
 * Prepares the database, starts the payment worker and consumes events; the caller decides where to
 * listen.
 */
export async function createPaymentService(config: PaymentConfig, logger: Logger): Promise<PaymentService> {
  const host = await openServiceHost<PaymentDatabase>({
    service: 'payment',
    config,
    moduleUrl: import.meta.url,
    logger,
  });
  const { db } = host;
  const worker = startPaymentWorker({
    db,
    gateway: createPaymentGatewayClient({
      baseUrl: config.payment.gatewayUrl,
      timeoutMs: config.payment.callTimeoutMs,
    }),
    settings: config.payment,
    logger,
    registry: host.registry,
  });
  // The handlers only record what is to be done; the worker, nudged once they commit, calls the gateway.
  const nudge = (outcome: PaymentOutcome) => {
    if (WORK_CREATED.has(outcome)) worker.nudge();
  };
  const consumer = host.consume(
    routeEvents({
      [InventoryEvents.reserved]: handleThroughInbox(db, 'payment', requestCharge, nudge),
      [OrderEvents.cancelled]: handleThroughInbox(db, 'payment', cancelPayment, nudge),
    }),
  );
  const app = await buildServiceApp({ ...host, logger });
  await app.register(paymentRoutes, { db });
  return {
    app,
    host,
    consumer,
    async stop() {
      await app.close();
      await worker.stop();
      await host.stop();
    },
  };
}
