import { Type } from 'typebox';
import { parseEnv } from '@platform/config';
import { serviceEnvSchema, toServiceHostConfig, type ServiceHostConfig } from '@platform/service-host';

/**
 * Every variable the inventory service reads, each with a `description`: docs/configuration.md and
 * .env.example are generated from them (`npm run config-docs`).
 */
export const InventoryEnv = Type.Object({
  ...serviceEnvSchema('INVENTORY', { port: 8001, database: 'inventory' }),
  INVENTORY_SEED_STOCK: Type.Boolean({
    default: false,
    description:
      "At start, add SPEC §6's initial stock for the products the stock table lacks (never restocks one it " +
      'has); `npm start`, docker-compose and the tests turn it on; a production database starts empty',
  }),
});

/** Everything the inventory service reads from its environment, parsed once at start. */
export interface InventoryConfig extends ServiceHostConfig {
  /** Whether to add SPEC §6's initial stock for missing products at start. */
  seedStock: boolean;
}

/** Parses the environment; throws a ConfigError naming every bad or missing variable. */
export function loadInventoryConfig(env: Record<string, string | undefined> = process.env): InventoryConfig {
  const e = parseEnv(InventoryEnv, env);
  return { ...toServiceHostConfig('INVENTORY', e), seedStock: e.INVENTORY_SEED_STOCK };
}
