import { Type } from 'typebox';
import { parseEnv } from '@platform/config';

/**
 * Every variable `npm start` reads itself (each child reads its own), each with a `description`:
 * docs/configuration.md and .env.example are generated from them (`npm run config-docs`).
 */
export const SupervisorEnv = Type.Object({
  NO_COLOR: Type.Optional(
    Type.String({
      description: 'Set (to anything but empty) to print `npm start` and the demo without colours',
    }),
  ),
  SUPERVISOR_READY_TIMEOUT_MS: Type.Integer({
    minimum: 1000,
    default: 90_000,
    description:
      'How long `npm start` waits for every part to report ready before saying which is late, in ms',
  }),
  RABBITMQ_MANAGEMENT_URL: Type.String({
    pattern: '^https?://',
    default: 'http://127.0.0.1:15672',
    description: 'Where `npm start` looks for the RabbitMQ UI to print its URL',
  }),
  SUPERVISOR_NODE_ARGS: Type.String({
    default: '',
    description:
      'Node options for every child, e.g. `--cpu-prof --cpu-prof-dir=/tmp/profiles` (Node refuses those in ' +
      '`NODE_OPTIONS`)',
  }),
});

/** The supervisor's own settings, and the environment it hands to every child unchanged. */
export function loadSupervisorConfig(env: Record<string, string | undefined> = process.env) {
  const e = parseEnv(SupervisorEnv, env);
  const childEnv: Record<string, string | undefined> = { INVENTORY_SEED_STOCK: 'true', ...env };
  return {
    // npm start is the local system: its inventory starts with SPEC §6's stock (a production database,
    // started otherwise, starts empty). INVENTORY_SEED_STOCK=false in the environment turns it off.
    childEnv,
    colour: e.NO_COLOR === undefined && process.stdout.isTTY,
    readyTimeoutMs: e.SUPERVISOR_READY_TIMEOUT_MS,
    rabbitmqManagementUrl: e.RABBITMQ_MANAGEMENT_URL,
    /** Node options for every child, e.g. `--cpu-prof --cpu-prof-dir=/tmp/profiles` (Node refuses those in NODE_OPTIONS). */
    nodeArgs: e.SUPERVISOR_NODE_ARGS.split(/\s+/).filter(Boolean),
  };
}
