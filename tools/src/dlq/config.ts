import { loadSystemLayout } from '../system-layout.js';

/** The broker and exchange of the services, read by their own configuration from the same environment. */
export function loadDlqConfig(env: Record<string, string | undefined> = process.env): {
  url: string;
  exchange: string;
} {
  return loadSystemLayout(env).rabbitmq;
}
