import type { Logger } from '@platform/observability';
import { handleSagaEvents, startSagaService, type SagaService } from '@platform/service-host';
import type { PaymentConfig } from './config.js';
import type { PaymentDatabase } from './database.js';
import { applyPaymentEvents, loadPayments, PAYMENT_EVENT_TYPES } from './payments/apply-payment-events.js';
import { createPaymentGatewayClient } from './payments/payment-gateway.client.js';
import { startPaymentWorker } from './payments/payment-worker.js';
import { paymentRoutes } from './payments/payments.routes.js';

/** A wired payment service: its HTTP app (not listening yet) and what runs beside it. */
export type PaymentService = SagaService<PaymentDatabase, 'payment'>;

/**
 * Prepares the database, starts the payment worker and consumes events; the caller decides where to
 * listen.
 */
export function createPaymentService(config: PaymentConfig, logger: Logger): Promise<PaymentService> {
  return startSagaService<PaymentDatabase, 'payment'>({
    service: 'payment',
    config,
    moduleUrl: import.meta.url,
    logger,
    parts: (host) => {
      const gateway = createPaymentGatewayClient({
        baseUrl: config.payment.gatewayUrl,
        timeoutMs: config.payment.callTimeoutMs,
        connections: config.payment.concurrency,
      });
      const worker = startPaymentWorker({
        db: host.db,
        transact: host.transact,
        gateway,
        settings: config.payment,
        logger,
        registry: host.registry,
      });
      return {
        // The handlers only record what is to be done, leased to this instance; once they commit, its
        // worker calls the gateway.
        handlers: handleSagaEvents({
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
        routes: async (api) => {
          await api.register(paymentRoutes, { db: host.db });
        },
        beside: [worker, { stop: () => gateway.close() }],
      };
    },
  });
}
