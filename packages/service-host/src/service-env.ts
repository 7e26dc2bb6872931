import { Type, type Static } from 'typebox';
import { authEnvSchema, toAuthConfig, type AuthConfig } from '@platform/auth';
import { ConfigError } from '@platform/config';
import { brokerAddresses, RABBITMQ_URLS_PATTERN } from '@platform/messaging';
import { STEP_BOUNDS } from '@platform/contracts';

const PostgresUrl = (fallback: string, description: string) =>
  Type.String({ pattern: '^postgres(ql)?://', default: fallback, description });
const MsList = (fallback: string, description: string) =>
  Type.String({ pattern: '^\\d+(,\\d+)*$', default: fallback, description });

/**
 * The variables every saga service reads, its own prefixed with its name (INVENTORY_PORT, …) so that one
 * environment can configure them all, the broker's and the consumer's shared. Every property carries a
 * `description`: docs/configuration.md and .env.example are generated from it (`npm run config-docs`).
 */
export function serviceEnvSchema(prefix: string, defaults: { port: number; database: string }) {
  const service = `the ${prefix.toLowerCase()} service`;
  return {
    // Loopback unless configured (SPEC §4.10): containers and Kubernetes set 0.0.0.0.
    [`${prefix}_HOST`]: Type.String({
      default: '127.0.0.1',
      description: `Interface ${service}'s API listens on (containers set \`0.0.0.0\`)`,
    }),
    [`${prefix}_PORT`]: Type.Integer({
      minimum: 0,
      maximum: 65535,
      default: defaults.port,
      description: `Port of ${service}'s API`,
    }),
    [`${prefix}_DATABASE_URL`]: PostgresUrl(
      `postgres://postgres@127.0.0.1:5432/${defaults.database}`,
      `${capitalised(service)}'s database (created if missing)`,
    ),
    [`${prefix}_PG_POOL_MAX`]: Type.Integer({
      minimum: 2,
      maximum: 200,
      default: 10,
      description: `PostgreSQL connections of ${service}`,
    }),
    ...brokerEnvSchema,
    ...authEnvSchema,
  };
}

const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** The broker, outbox relay and consumer variables, shared by every service. */
export const brokerEnvSchema = {
  // One URL, or a cluster's nodes: `amqp://u:p@rabbit-0:5672,amqp://u:p@rabbit-1:5672,…`.
  RABBITMQ_URL: Type.String({
    pattern: RABBITMQ_URLS_PATTERN,
    default: 'amqp://guest:guest@127.0.0.1:5672',
    description:
      "The broker; a cluster's nodes separated by commas (same credentials and vhost), tried in turn from a random one",
  }),
  RABBITMQ_EXCHANGE: Type.String({
    minLength: 1,
    default: 'orders',
    description: 'Topic exchange to declare and publish to',
  }),
  OUTBOX_BATCH_SIZE: Type.Integer({
    minimum: 1,
    maximum: 5000,
    default: 200,
    description: 'Outbox rows claimed and published per relay transaction',
  }),
  OUTBOX_POLL_INTERVAL_MS: Type.Integer({
    minimum: 50,
    default: 1000,
    description:
      'How often the outbox relay looks for rows left behind, in ms (up to ten times longer while it finds none)',
  }),
  OUTBOX_RELAY_MIN_AGE_MS: Type.Integer({
    minimum: 0,
    default: 2000,
    description:
      'Events are published right after their commit: outbox rows younger than this (ms) are left to the process ' +
      'that wrote them; the relay takes only older ones (a crash, a broker outage)',
  }),
  CONSUMER_PREFETCH: Type.Integer({
    minimum: 1,
    maximum: 5000,
    default: 600,
    description: 'Deliveries a service fetches ahead',
  }),
  CONSUMER_MAX_BATCH: Type.Integer({
    minimum: 1,
    maximum: 2000,
    default: 200,
    description: 'Most events one batch (one transaction) takes',
  }),
  CONSUMER_MAX_CONCURRENT_BATCHES: Type.Integer({
    minimum: 1,
    maximum: 16,
    default: 2,
    description: 'Batches of events handled at once',
  }),
  CONSUMER_RETRY_DELAYS_MS: MsList(
    STEP_BOUNDS.delivery.retryDelaysMs.join(','),
    'Delay before attempt 2, 3, 4…, in ms; the last repeats; one delay queue per value',
  ),
  CONSUMER_MAX_ATTEMPTS: Type.Integer({
    minimum: 1,
    maximum: 100,
    default: STEP_BOUNDS.delivery.maxAttempts,
    description: "Attempts before an event goes to the service's dead-letter queue",
  }),
  INBOX_RETENTION_HOURS: Type.Integer({
    minimum: 1,
    default: 168,
    description:
      "How long a handled event's inbox row is kept, in hours (pruned hourly; duplicates arrive within seconds)",
  }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info', description: 'The least severe level logged; `silent` logs nothing' },
  ),
};

/** What a service host needs, parsed from the variables above. */
export interface ServiceHostConfig {
  http: { host: string; port: number };
  databaseUrl: string;
  poolMax: number;
  rabbitmq: { url: string; exchange: string };
  /** The relay: rows per transaction, how often it looks, and how old a row must be for it to take it. */
  outbox: { batchSize: number; pollIntervalMs: number; minAgeMs: number };
  consumer: {
    /** Deliveries fetched ahead. */
    prefetch: number;
    /** Most events one batch (one transaction) takes. */
    maxBatch: number;
    /** Batches handled at once. */
    maxConcurrentBatches: number;
    retryDelaysMs: number[];
    maxAttempts: number;
  };
  /** How long a handled event's inbox row is kept (duplicates arrive within seconds). */
  inboxRetentionMs: number;
  logLevel: string;
  /** Who may call the service's HTTP routes (SPEC §5: bearer JWTs, `AUTH_MODE`). */
  auth: AuthConfig;
}

type BrokerEnv = { [K in keyof typeof brokerEnvSchema]: Static<(typeof brokerEnvSchema)[K]> };

/** The broker part of the configuration, from variables parsed against `brokerEnvSchema`. */
export function toBrokerConfig(
  e: BrokerEnv,
): Pick<ServiceHostConfig, 'rabbitmq' | 'outbox' | 'consumer' | 'inboxRetentionMs' | 'logLevel'> {
  checkBrokerAddresses(e.RABBITMQ_URL);
  return {
    rabbitmq: { url: e.RABBITMQ_URL, exchange: e.RABBITMQ_EXCHANGE },
    outbox: {
      batchSize: e.OUTBOX_BATCH_SIZE,
      pollIntervalMs: e.OUTBOX_POLL_INTERVAL_MS,
      minAgeMs: e.OUTBOX_RELAY_MIN_AGE_MS,
    },
    consumer: {
      prefetch: e.CONSUMER_PREFETCH,
      maxBatch: e.CONSUMER_MAX_BATCH,
      maxConcurrentBatches: e.CONSUMER_MAX_CONCURRENT_BATCHES,
      retryDelaysMs: e.CONSUMER_RETRY_DELAYS_MS.split(',').map(Number),
      maxAttempts: e.CONSUMER_MAX_ATTEMPTS,
    },
    inboxRetentionMs: e.INBOX_RETENTION_HOURS * 3_600_000,
    logLevel: e.LOG_LEVEL,
  };
}

/** The whole host configuration of a service whose variables carry `prefix`. */
export function toServiceHostConfig(prefix: string, e: Record<string, unknown>): ServiceHostConfig {
  const value = (name: string) => e[`${prefix}_${name}`];
  return {
    http: { host: String(value('HOST')), port: Number(value('PORT')) },
    databaseUrl: String(value('DATABASE_URL')),
    poolMax: Number(value('PG_POOL_MAX')),
    ...toBrokerConfig(e as BrokerEnv),
    auth: toAuthConfig(e as Parameters<typeof toAuthConfig>[0]),
  };
}

/**
 * Refuses a RABBITMQ_URL list whose nodes differ in credentials, vhost or options (brokerAddresses), as a
 * configuration error at start rather than at the first connection. Throws ConfigError.
 */
export function checkBrokerAddresses(url: string): void {
  try {
    brokerAddresses(url);
  } catch (error) {
    throw new ConfigError([(error as Error).message]);
  }
}
