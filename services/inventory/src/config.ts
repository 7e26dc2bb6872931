import { Type } from 'typebox';
import { parseEnv } from '@platform/config';
import { serviceEnvSchema, toServiceHostConfig, type ServiceHostConfig } from '@platform/service-host';

const InventoryEnv = Type.Object(serviceEnvSchema('INVENTORY', { port: 8001, database: 'inventory' }));

/** Everything the inventory service reads from its environment, parsed once at start. */
export type InventoryConfig = ServiceHostConfig;

/** Parses the environment; throws a ConfigError naming every bad or missing variable. */
export function loadInventoryConfig(env: Record<string, string | undefined> = process.env): InventoryConfig {
  return toServiceHostConfig('INVENTORY', parseEnv(InventoryEnv, env));
}
