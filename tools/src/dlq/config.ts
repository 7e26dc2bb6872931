import { loadOrderConfig } from '@services/order';

/**
 * The broker and exchange of the services, and their retry delays (which name their delay queues), read
 * by the services' own configuration from the same environment.
 */
export function loadDlqConfig(env: Record<string, string | undefined> = process.env): {
  url: string;
  exchange: string;
  retryDelaysMs: readonly number[];
} {
  const order = loadOrderConfig(env);
  return { ...order.rabbitmq, retryDelaysMs: order.consumer.retryDelaysMs };
}
