import { Type } from 'typebox';
import { parseEnv } from '@platform/config';
import type { SimulatorName } from './simulators.js';

const Port = (fallback: number, simulator: string) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: fallback, description: `Port of the ${simulator}` });

/**
 * Every variable the simulators read, each with a `description`: docs/configuration.md and .env.example are
 * generated from them (`npm run config-docs`).
 */
export const SimulatorsEnv = Type.Object({
  SIMULATORS_PROFILE: Type.String({
    minLength: 1,
    default: 'seed',
    description: 'How the third parties behave: `seed`, `fast`, or the path of a JSON profile file',
  }),
  SIMULATORS_HOST: Type.String({
    minLength: 1,
    default: '127.0.0.1',
    description: 'Interface the simulators listen on',
  }),
  PRODUCT_SERVICE_PORT: Port(8081, 'product service'),
  USER_SERVICE_PORT: Port(8082, 'user service'),
  PAYMENT_GATEWAY_PORT: Port(8083, 'payment gateway'),
  FULFILMENT_PARTNER_PORT: Port(8084, 'fulfilment partner'),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info', description: 'The least severe level logged; `silent` logs nothing' },
  ),
});

/** Everything the simulators read from their environment, parsed once at start. */
export interface SimulatorsConfig {
  /** `seed`, `fast`, or the path of a JSON profile file. */
  profile: string;
  host: string;
  ports: Record<SimulatorName, number>;
  logLevel: string;
}

/** Parses the environment; throws a ConfigError naming every bad or missing variable. */
export function loadSimulatorsConfig(
  env: Record<string, string | undefined> = process.env,
): SimulatorsConfig {
  const e = parseEnv(SimulatorsEnv, env);
  return {
    profile: e.SIMULATORS_PROFILE,
    host: e.SIMULATORS_HOST,
    ports: {
      product: e.PRODUCT_SERVICE_PORT,
      user: e.USER_SERVICE_PORT,
      payment: e.PAYMENT_GATEWAY_PORT,
      fulfilment: e.FULFILMENT_PARTNER_PORT,
    },
    logLevel: e.LOG_LEVEL,
  };
}
