import type { Kysely, Transaction } from 'kysely';
import { SUBSCRIPTIONS, type ConsumingService } from '@platform/contracts';
import { inboxMigrations, pruneInbox } from '@platform/inbox';
import {
  connectBroker,
  startConsumer,
  type BatchHandler,
  type Broker,
  type EventConsumer,
} from '@platform/messaging';
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
} from '@platform/postgres';
import type { ServiceHostConfig } from './service-env.js';

/** Runs `work` in a transaction of the service's database; its outbox rows are published once it commits. */
export type Transact<Database> = <T>(work: (trx: Transaction<Database>) => Promise<T>) => Promise<T>;

/**
 * What every service runs on: its database (created and migrated), the broker, metrics, the outbox
 * publisher and relay.
 */
export interface ServiceHost<Database> {
  pool: Pool;
  db: Kysely<Database>;
  broker: Broker;
  registry: Registry;
  /**
   * Runs `work` in a transaction; the events it appends to the outbox are published as soon as it
   * committed (the relay takes whatever that misses).
   */
  transact: Transact<Database>;
  /** Starts consuming the service's queue (SPEC §2's subscriptions) with the configured retry policy. */
  consume(handle: BatchHandler): EventConsumer;
  /** Stops the consumer (in-flight events finish), the relay, then closes the broker and the pool. */
  stop(): Promise<void>;
}

/** Opens a service's resources; the database is created if missing and migrated (outbox, inbox, own). */
export async function openServiceHost<Database>(options: {
  service: ConsumingService;
  config: ServiceHostConfig;
  /** The service's `import.meta.url`: its `migrations/` folder is found from there. */
  moduleUrl: string;
  logger: Logger;
}): Promise<ServiceHost<Database>> {
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
  const publisher = createOutboxPublisher({ pool, broker, logger, metrics: outboxMetrics });
  const relay: OutboxRelay = startOutboxRelay({
    pool,
    broker,
    logger,
    metrics: outboxMetrics,
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
    transact: (work) => publisher.transact(db, work),
    consume(handle) {
      if (consumer) throw new Error(`${service} already consumes its queue`);
      consumer = startConsumer({
        broker,
        exchange: config.rabbitmq.exchange,
        service,
        bindingKeys: SUBSCRIPTIONS[service],
        handle,
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
