import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import type { OrderSnapshot } from '@platform/contracts';
import {
  createTestDatabase,
  createTestExchange,
  type TestDatabase,
  type TestExchange,
  testServiceEnv,
  operatorHeaders,
} from '@platform/testing';
import { loadNotificationConfig } from '../src/config.js';
import { createNotificationService, type NotificationService } from '../src/notification-service.js';

/** A JSON log line as pino writes it. */
export type LogLine = Record<string, unknown>;

/** A notification service on a database and exchange of the test's own, listening on a free port. */
export interface TestNotification {
  service: NotificationService;
  baseUrl: string;
  database: TestDatabase;
  exchange: TestExchange;
  /** Every line the service logged, parsed, in order. */
  logs: LogLine[];
  /** Stops the service and removes the database, the exchange and its queues. */
  remove(): Promise<void>;
}

export async function startTestNotification(prefix: string): Promise<TestNotification> {
  const database = await createTestDatabase(prefix);
  const exchange = await createTestExchange(prefix);
  const config = loadNotificationConfig({
    ...testServiceEnv('NOTIFICATION', database, exchange),
  });
  // The log line is part of the behaviour under test, so it is kept in memory at info whatever LOG_LEVEL
  // says, and echoed to stdout only when TEST_LOG_LEVEL asks for it.
  const logs: LogLine[] = [];
  const echo = process.env.TEST_LOG_LEVEL !== undefined;
  const logger = pino(
    { level: 'debug', base: { service: 'notification' } },
    {
      write(line: string) {
        logs.push(JSON.parse(line) as LogLine);
        if (echo) process.stdout.write(line);
      },
    },
  );
  const service = await createNotificationService(config, logger);
  const baseUrl = await service.app.listen(config.http);
  await service.consumer.ready;
  let stopped = false;
  return {
    service,
    baseUrl,
    database,
    exchange,
    logs,
    async remove() {
      if (!stopped) await service.stop();
      stopped = true;
      await exchange.remove();
      await database.drop();
    },
  };
}

/** A priced order as saga events carry it. */
export function pricedOrder(): OrderSnapshot {
  return {
    order_id: randomUUID(),
    user_id: 'customer-123',
    customer_fullname: 'Grace Hopper',
    product_name: 'product-A',
    total_amount: 150,
    created_at: new Date().toISOString(),
    items: [{ product_code: 'product-A', product_name: 'product-A', quantity: 3, unit_price: 50 }],
  };
}

export { sagaEvent } from '@platform/testing';

/** A notification as `GET /notifications` answers it. */
export interface NotificationBody {
  order_id: string;
  kind: string;
  recipient: string;
  message: string;
  details: Record<string, unknown>;
  created_at: string;
}

export async function notificationsOf(baseUrl: string, orderId: string): Promise<NotificationBody[]> {
  const response = await fetch(`${baseUrl}/notifications?order_id=${encodeURIComponent(orderId)}`, {
    headers: await operatorHeaders(),
  });
  if (response.status !== 200) throw new Error(`GET /notifications answered ${response.status}`);
  return (await response.json()) as NotificationBody[];
}
