import { Type } from 'typebox';
import { parseEnv } from '@platform/config';
import { serviceEnvSchema, toServiceHostConfig, type ServiceHostConfig } from '@platform/service-host';

/**
 * Every variable the notification service reads, each with a `description`: docs/configuration.md and
 * .env.example are generated from them (`npm run config-docs`).
 */
export const NotificationEnv = Type.Object(
  serviceEnvSchema('NOTIFICATION', { port: 8004, database: 'notifications' }),
);

/** Everything the notification service reads from its environment, parsed once at start. */
export type NotificationConfig = ServiceHostConfig;

/** Parses the environment; throws a ConfigError naming every bad or missing variable. */
export function loadNotificationConfig(
  env: Record<string, string | undefined> = process.env,
): NotificationConfig {
  return toServiceHostConfig('NOTIFICATION', parseEnv(NotificationEnv, env));
}
