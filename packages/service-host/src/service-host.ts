import type { Kysely } from 'kysely';
import {
  ccRoutingKeysOf,
  eventProblems,
  RETIRED_SUBSCRIPTIONS,
  SUBSCRIPTIONS,
  type ConsumingService,
  type SubscribedEvent,
} from '@platform/contracts';
import { inboxMigrations, pruneInbox } from '@platform/inbox';
import { connectBroker, startConsumer, type Broker, type EventConsumer } from '@platform/messaging';
import { createMetricsRegistry, type Logger, type Registry } from '@platform/observability';
import {
  createOutboxMetrics,
  createOutboxPublisher,
  outboxMigrations,
  startOutboxRelay,
  type OutboxRelay,
} from '@platform/outbox';
import {
  createKysely,
  createPool,
  ensureDatabase,
  findMigrationsDir,
  isTransientDatabaseError,
  migrate,
  readMigrations,
  type Pool,
  type Transact,
} from '@platform/postgres';
import type { EventHandlers } from './saga-events.js';
import type { ServiceHostConfig } from './service-env.js';

/**
 * Runs `work` in a pipelined transaction of the service's database (`createTransactionRunner`); its outbox
 * rows are published once it commits.
 */
export type { Transact } from '@platform/postgres';

/**
 * What every service runs on: its database (created and migrated), the broker, metrics, the outbox
 * publisher and relay.
 */
export interface ServiceHost<Database, Service extends ConsumingService = ConsumingService> {
  pool: Pool;
  db: Kysely<Database>;
  broker: Broker;
  registry: Registry;
  /**
   * Runs `work` in a transaction; the events it appends to the outbox are published as soon as it
   * committed (the relay takes whatever that misses).
   */
  transact: Transact<Database>;
  /**
   * Starts consuming the service's queue (SPEC §2's subscriptions, `SUBSCRIPTIONS`) with the configured
   * retry policy. Every delivery is checked against its type's schema first (`eventProblems`): an invalid
   * one, or one of a type the service does not subscribe to, is dead-lettered at once.
   * @throws Error when `handlers.types` is not exactly the service's subscriptions (a subscribed type
   *   with no handler, or a handler for a type not subscribed to): the service must not start.
   */
  consume(handlers: EventHandlers<SubscribedEvent<Service>>): EventConsumer;
  /** Stops the consumer (in-flight events finish), the relay, then closes the broker and the pool. */
  stop(): Promise<void>;
}

/** Opens a service's resources; the database is created if missing and migrated (outbox, inbox, own). */
export async function openServiceHost<
  Database,
  Service extends ConsumingService = ConsumingService,
>(options: {
  service: Service;
  config: ServiceHostConfig;
  /** The service's `import.meta.url`: its `migrations/` folder is found from there. */
  moduleUrl: string;
  logger: Logger;
}): Promise<ServiceHost<Database, Service>> {
  const { service, config, logger } = options;
  await ensureDatabase(config.databaseUrl);
  const pool = createPool({
    connectionString: config.databaseUrl,
    max: config.poolMax,
    applicationName: service,
    onError: (error) => logger.warn({ err: error }, 'idle postgres connection lost'),
  });
  try {
    await migrate(pool, [
      ...(await outboxMigrations()),
      ...(await inboxMigrations()),
      ...(await readMigrations(findMigrationsDir(options.moduleUrl), service)),
    ]);
  } catch (error) {
    await pool.end();
    throw error;
  }
  const broker = connectBroker({
    url: config.rabbitmq.url,
    connectionName: service,
    exchange: config.rabbitmq.exchange,
    subscriptions: SUBSCRIPTIONS,
    logger,
  });
  const registry = createMetricsRegistry(service);
  const outboxMetrics = createOutboxMetrics(registry, pool);
  const publisher = createOutboxPublisher<Database>({
    pool,
    broker,
    logger,
    metrics: outboxMetrics,
    ccRoutingKeys: ccRoutingKeysOf,
  });
  const relay: OutboxRelay = startOutboxRelay({
    pool,
    broker,
    logger,
    metrics: outboxMetrics,
    ccRoutingKeys: ccRoutingKeysOf,
    ...config.outbox,
  });
  let consumer: EventConsumer | undefined;
  const db = createKysely<Database>(pool);
  const pruning = schedulePruning(() => pruneInbox(db, config.inboxRetentionMs), logger);

  return {
    pool,
    db,
    broker,
    registry,
    transact: publisher.transact,
    consume(handlers) {
      if (consumer) throw new Error(`${service} already consumes its queue`);
      const subscribed: readonly string[] = SUBSCRIPTIONS[service];
      assertHandlersMatch(service, subscribed, handlers.types);
      consumer = startConsumer({
        broker,
        exchange: config.rabbitmq.exchange,
        service,
        bindingKeys: subscribed,
        retiredBindingKeys: RETIRED_SUBSCRIPTIONS[service],
        validate: (value) => {
          const problems = eventProblems(value);
          if (problems.length > 0) return problems;
          const { type } = value as { type: string };
          return subscribed.includes(type) ? [] : [`/type: ${service} does not subscribe to ${type}`];
        },
        handle: handlers.handle,
        ...config.consumer,
        isTransient: isTransientDatabaseError,
        logger,
        registry,
      });
      return consumer;
    },
    async stop() {
      clearInterval(pruning);
      await consumer?.close();
      await publisher.close();
      await relay.stop();
      await broker.close();
      await pool.end();
    },
  };
}

/**
 * Refuses a service whose handlers and subscriptions differ (as pg-transactional-outbox's handler registry
 * does): a subscribed type without a handler would be consumed and lost, a handler without a subscription
 * is dead code that looks alive.
 * @throws Error naming every type that is subscribed without a handler or handled without a subscription.
 */
export function assertHandlersMatch(
  service: string,
  subscribed: readonly string[],
  handled: readonly string[],
): void {
  const missing = subscribed.filter((type) => !handled.includes(type));
  const unsubscribed = handled.filter((type) => !subscribed.includes(type));
  if (missing.length === 0 && unsubscribed.length === 0) return;
  const problems = [
    missing.length > 0 && `subscribes to ${missing.join(', ')} with no handler`,
    unsubscribed.length > 0 && `has handlers for ${unsubscribed.join(', ')} it does not subscribe to`,
  ].filter(Boolean);
  throw new Error(`${service} ${problems.join(' and ')} (SUBSCRIPTIONS in @platform/contracts)`);
}

const PRUNE_INTERVAL_MS = 3_600_000;

/** Hourly, deletes old inbox rows in batches until none is left; a failure waits for the next hour. */
function schedulePruning(prune: () => Promise<number>, logger: Logger): NodeJS.Timeout {
  const timer = setInterval(() => {
    void (async () => {
      let deleted = 0;
      for (let batch = await prune(); batch > 0; batch = await prune()) deleted += batch;
      if (deleted > 0) logger.info({ deleted }, 'old inbox rows pruned');
    })().catch((error: unknown) =>
      logger.warn({ err: error }, 'inbox pruning failed; trying again in an hour'),
    );
  }, PRUNE_INTERVAL_MS);
  // A timer alone must not keep a stopping process alive.
  timer.unref();
  return timer;
}
