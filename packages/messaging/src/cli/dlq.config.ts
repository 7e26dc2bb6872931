import { Type } from 'typebox';
import { parseEnv } from '@platform/config';

const DlqEnv = Type.Object({
  RABBITMQ_URL: Type.String({ pattern: '^amqps?://', default: 'amqp://guest:guest@127.0.0.1:5672' }),
  RABBITMQ_EXCHANGE: Type.String({ minLength: 1, default: 'orders' }),
});

/** The broker the dead-letter command talks to: the same variables the services read. */
export function loadDlqConfig(env: Record<string, string | undefined> = process.env) {
  const e = parseEnv(DlqEnv, env);
  return { url: e.RABBITMQ_URL, exchange: e.RABBITMQ_EXCHANGE };
}
