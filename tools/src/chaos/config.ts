import { existsSync, readdirSync } from 'node:fs';
import { Type } from 'typebox';
import { parseEnv } from '@platform/config';
import { DEFAULT_CLUSTER_FAULTS, DEFAULT_FAULTS, FAULT_KINDS, parseFaults } from './faults.js';

/** The fault kinds a run leaves out unless CHAOS_FAULTS names them (its description says which). */
const notByDefault = FAULT_KINDS.filter((kind) => !(DEFAULT_FAULTS as readonly string[]).includes(kind));

/**
 * Every variable `npm run chaos` reads itself (the system under test takes its own from the same
 * environment), each with a `description`: docs/configuration.md and .env.example are generated from them
 * (`npm run config-docs`).
 */
export const ChaosEnv = Type.Object({
  CHAOS_RATE: Type.Number({
    exclusiveMinimum: 0,
    default: 50,
    description: 'Orders per second, open loop, for the whole run',
  }),
  CHAOS_FAULTS: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        `The faults, in order, separated by commas: ${FAULT_KINDS.map((kind) => `\`${kind}\``).join(', ')}; ` +
        '`rabbitmq` kills every RabbitMQ node, `rabbitmq-node` one (the next at each such fault), a service ' +
        `name its process; unset: every one but ${notByDefault.map((kind) => `\`${kind}\``).join(', ')} ` +
        `(with \`--cluster\`: \`${DEFAULT_CLUSTER_FAULTS.join(',')}\`)`,
    }),
  ),
  CHAOS_ROUNDS: Type.Integer({
    minimum: 1,
    default: 2,
    description: 'How many times the list of faults is played',
  }),
  CHAOS_GAP_S: Type.Number({
    minimum: 0,
    default: 30,
    description:
      'Load without a fault before the first, between two (after recovery) and after the last, in s',
  }),
  CHAOS_RABBITMQ_DOWN_S: Type.Number({
    minimum: 0,
    default: 30,
    description: 'How long RabbitMQ stays away when killed, in s',
  }),
  CHAOS_POSTGRES_DOWN_S: Type.Number({
    minimum: 0,
    default: 5,
    description: 'How long PostgreSQL stays away when stopped, in s',
  }),
  CHAOS_FREEZE_S: Type.Number({
    exclusiveMinimum: 0,
    default: 10,
    description:
      'How long the third parties stay frozen, in s: longer than every client timeout (2–3 s by default)',
  }),
  CHAOS_DEPENDENCY_FREEZE_S: Type.Number({
    exclusiveMinimum: 0,
    default: 20,
    description: 'How long PostgreSQL or RabbitMQ stays frozen (SIGSTOP) in a `*-freeze` fault, in s',
  }),
  CHAOS_RECOVERY_TIMEOUT_S: Type.Number({
    exclusiveMinimum: 0,
    default: 120,
    description: 'A recovery not seen this long after its fault, in s, is a violation',
  }),
  CHAOS_SETTLE_S: Type.Number({
    exclusiveMinimum: 0,
    default: 240,
    description:
      'How long after the load every order may take to be final, in s (the saga deadline is 120 s)',
  }),
  CHAOS_STOCK: Type.Integer({
    minimum: 0,
    default: 1_000_000,
    description: 'Units of each product before the load (`product-B` and `product-C` keep their 5 and 0)',
  }),
  CHAOS_SIMULATORS_PROFILE: Type.String({
    minLength: 1,
    default: 'seed',
    description: "The simulators' profile; `fast` for the rate of the benchmark",
  }),
  CHAOS_CONNECTIONS: Type.Integer({ minimum: 1, default: 64, description: 'Connections of the load' }),
  CHAOS_OUTPUT: Type.String({
    minLength: 1,
    default: 'chaos-results.json',
    description: 'Where the results go (JSON)',
  }),
  CHAOS_KEEP: Type.Boolean({
    default: false,
    description:
      'Keep the temporary directory (data, logs) after a passing run; it is always kept after a failure',
  }),
  CHAOS_POSTGRES_BIN: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'Where `initdb` and `pg_ctl` are; unset: the newest `/usr/lib/postgresql/*/bin` (as root, PostgreSQL ' +
        'runs as the `postgres` user)',
    }),
  ),
  CHAOS_RABBITMQ_SERVER: Type.String({
    minLength: 1,
    default: '/usr/lib/rabbitmq/bin/rabbitmq-server',
    description: "The broker's start script",
  }),
});

/**
 * The chaos run's settings (`npm run chaos`, documented in the README). The defaults are the long run;
 * `.ci/run` shortens it with CHAOS_ROUNDS=1 and a smaller CHAOS_GAP_S. With `cluster` (`--cluster`), the
 * run has a three-node RabbitMQ cluster and its faults default to DEFAULT_CLUSTER_FAULTS. Throws ConfigError.
 */
export function loadChaosConfig(
  env: Record<string, string | undefined> = process.env,
  options: { cluster: boolean } = { cluster: false },
) {
  const e = parseEnv(ChaosEnv, env);
  return {
    /** Handed to the system under test, which takes its own variables from it. */
    env,
    /** Orders a second, open loop, for the whole run. */
    rate: e.CHAOS_RATE,
    /** The faults in the order they are injected, each round (see faults.ts). */
    faults:
      e.CHAOS_FAULTS === undefined
        ? options.cluster
          ? DEFAULT_CLUSTER_FAULTS
          : DEFAULT_FAULTS
        : parseFaults(e.CHAOS_FAULTS),
    /** RabbitMQ nodes: 3 with `--cluster` (quorum queues on all three), else 1. */
    rabbitmqNodes: options.cluster ? 3 : 1,
    rounds: e.CHAOS_ROUNDS,
    /** Load with no fault before the first fault, between faults (after recovery) and after the last, in s. */
    gapS: e.CHAOS_GAP_S,
    rabbitmqDownS: e.CHAOS_RABBITMQ_DOWN_S,
    postgresDownS: e.CHAOS_POSTGRES_DOWN_S,
    /** How long a third party stays frozen: longer than every client timeout (2–3 s by default). */
    freezeS: e.CHAOS_FREEZE_S,
    /** How long PostgreSQL or RabbitMQ stays frozen (SIGSTOP) in a `*-freeze` fault, in s. */
    dependencyFreezeS: e.CHAOS_DEPENDENCY_FREEZE_S,
    /** How long to wait for the system to recover from one fault before calling it a violation, in s. */
    recoveryTimeoutS: e.CHAOS_RECOVERY_TIMEOUT_S,
    /** How long after the load to wait for every order to be final and the system idle, in s. */
    settleS: e.CHAOS_SETTLE_S,
    /** Units of each product put in stock before the load (product-B and product-C keep their 5 and 0). */
    stock: e.CHAOS_STOCK,
    simulatorsProfile: e.CHAOS_SIMULATORS_PROFILE,
    connections: e.CHAOS_CONNECTIONS,
    output: e.CHAOS_OUTPUT,
    /** Keep the temporary directory (data, logs) after a passing run; it is always kept after a failure. */
    keep: e.CHAOS_KEEP,
    postgresBinDir: e.CHAOS_POSTGRES_BIN ?? findPostgresBinDir(),
    rabbitmqServer: e.CHAOS_RABBITMQ_SERVER,
  };
}

export type ChaosConfig = ReturnType<typeof loadChaosConfig>;

/** Debian's layout (/usr/lib/postgresql/<major>/bin), newest major first. */
function findPostgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((name) => /^\d+$/.test(name))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  return majors.length > 0 ? `${root}/${majors[0] ?? ''}/bin` : '/usr/bin';
}
