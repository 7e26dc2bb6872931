import { randomUUID } from 'node:crypto';
import type { OrderSnapshot, SubscribedType } from '@platform/contracts';
import { createLogger } from '@platform/observability';
import { startPaymentGateway, type OrderPayments, type PaymentBehaviour } from '@platform/simulators';
import {
  createTestDatabase,
  createTestExchange,
  sagaEvent as buildSagaEvent,
  startTcpProxy,
  type TcpProxy,
  type TestDatabase,
  type TestExchange,
  testServiceEnv,
  operatorHeaders,
} from '@platform/testing';
import { loadPaymentConfig } from '../src/config.js';
import { createPaymentService, type PaymentService } from '../src/payment-service.js';

/** Gateway draws meaning a transient failure or a success, with the seed's success rate of 0.8. */
export const FAIL = 0.9;
export const SUCCEED = 0.1;

/**
 * A payment service on a database and exchange of the test's own, listening on a free port, in front of a
 * real payment gateway simulator whose chance is a queue the test fills (empty: every charge succeeds),
 * reached through a proxy so that a test can take the gateway away without losing its records.
 */
export interface TestPayment {
  service: PaymentService;
  baseUrl: string;
  gatewayUrl: string;
  /** The service's path to the gateway, which a test can cut (a gateway gone away) and restore. */
  gatewayLink: TcpProxy;
  /** The gateway's next draws, consumed one per new charge attempt. */
  draws: number[];
  database: TestDatabase;
  exchange: TestExchange;
  /** Stops the service and the gateway, and removes the database, the exchange and its queues. */
  remove(): Promise<void>;
}

export async function startTestPayment(
  prefix: string,
  options: { env?: Record<string, string>; gateway?: Partial<PaymentBehaviour> } = {},
): Promise<TestPayment> {
  const draws: number[] = [];
  const gateway = await startPaymentGateway({
    port: 0,
    behaviour: { successRate: 0.8, delayMs: 0, ...options.gateway },
    random: () => draws.shift() ?? SUCCEED,
  });
  const gatewayLink = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(gateway.url).port) });
  const database = await createTestDatabase(prefix);
  const exchange = await createTestExchange(prefix);
  const config = loadPaymentConfig({
    ...testServiceEnv('PAYMENT', database, exchange),
    PAYMENT_GATEWAY_URL: gatewayLink.url(gateway.url),
    PAYMENT_RETRY_BASE_MS: '10',
    PAYMENT_RETRY_MAX_MS: '200',
    PAYMENT_POLL_INTERVAL_MS: '50',
    ...options.env,
  });
  const service = await createPaymentService(
    config,
    createLogger({ service: 'payment', level: config.logLevel }),
  );
  const baseUrl = await service.app.listen(config.http);
  await service.consumer.ready;
  let stopped = false;
  return {
    service,
    baseUrl,
    gatewayUrl: gateway.url,
    gatewayLink,
    draws,
    database,
    exchange,
    async remove() {
      if (!stopped) await service.stop();
      stopped = true;
      await gatewayLink.close();
      await gateway.close();
      await exchange.remove();
      await database.drop();
    },
  };
}

/** A priced order as saga events carry it. */
export function pricedOrder(totalAmount: number | null = 59.97): OrderSnapshot {
  return {
    order_id: randomUUID(),
    user_id: 'customer-123',
    customer_fullname: 'Grace Hopper',
    product_name: 'Classic Box',
    total_amount: totalAmount,
    created_at: new Date().toISOString(),
    items: [{ product_code: 'classic-box', product_name: 'Classic Box', quantity: 3, unit_price: 19.99 }],
  };
}

/** An event about `order` as its producer would publish it. */
export const sagaEvent = (
  type: SubscribedType<'payment'>,
  producer: string,
  order: OrderSnapshot,
  reason?: string,
) => buildSagaEvent(type, order, reason === undefined ? {} : { reason }, producer);

/** The gateway's record of an order, or undefined when it never saw a charge attempt for it. */
export async function gatewayRecord(gatewayUrl: string, orderId: string): Promise<OrderPayments | undefined> {
  const response = await fetch(`${gatewayUrl}/charges/${orderId}`);
  if (response.status === 404) return undefined;
  return (await response.json()) as OrderPayments;
}

/** What `GET /payments/{order_id}` answers. */
export interface PaymentView {
  order_id: string;
  status: string;
  amount: number | null;
  attempts: number;
  charge: { charge_id: string; amount: number } | null;
  refund: { refund_id: string; amount: number } | null;
  created_at: string;
  updated_at: string;
}

export async function paymentOf(baseUrl: string, orderId: string): Promise<PaymentView | undefined> {
  const response = await fetch(`${baseUrl}/payments/${orderId}`, { headers: await operatorHeaders() });
  if (response.status === 404) return undefined;
  return (await response.json()) as PaymentView;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
