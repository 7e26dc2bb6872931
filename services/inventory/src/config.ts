import { Type } from 'typebox';
import { parseEnv } from '@platform/config';
import { serviceEnvSchema, toServiceHostConfig, type ServiceHostConfig } from '@platform/service-host';

const InventoryEnv = Type.Object({
  ...serviceEnvSchema('INVENTORY', { port: 8001, database: 'inventory' }),
  INVENTORY_SEED_STOCK: Type.Boolean({
    default: false,
    description:
      "Add SPEC §6's initial stock for the products missing from the table at start (npm start does)",
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
