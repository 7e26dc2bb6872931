import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { authenticate, createTokenVerifier } from '@platform/auth';
import type { ConsumingService, SubscribedEvent } from '@platform/contracts';
import { buildServiceApp } from '@platform/http-shell';
import type { EventConsumer } from '@platform/messaging';
import type { Logger } from '@platform/observability';
import type { EventHandlers } from './saga-events.js';
import type { ServiceHostConfig } from './service-env.js';
import { openServiceHost, type ServiceHost } from './service-host.js';

/** What a saga service adds to its host: its event handlers, its query API, and what runs beside them. */
export interface SagaServiceParts<Service extends ConsumingService> {
  /** The service's events, as `handleSagaEvents` handles them (one per subscription, checked at start). */
  handlers: EventHandlers<SubscribedEvent<Service>>;
  /** The read-only query API, served behind the bearer-token guard: operators only (SPEC §4.10). */
  routes: FastifyPluginAsync;
  /** What runs beside the consumer (workers, clients), stopped after the app, before the host, one after the other. */
  beside?: readonly { stop(): Promise<void> }[];
}

/** A wired saga service: its HTTP app (not listening yet), its host, its consumer, and how to stop it. */
export interface SagaService<Database, Service extends ConsumingService> {
  app: FastifyInstance;
  host: ServiceHost<Database, Service>;
  consumer: EventConsumer;
  /** Stops the app (no new requests), what runs beside, then the host (consumer, relay, connections). */
  stop(): Promise<void>;
}

/**
 * A saga service declared by its parts (issue 24): opens the host (database created and migrated,
 * broker, relay), asks `parts` for what is the service's own (given the host, so that its workers and
 * handlers share the host's pool and transactions), consumes its queue with the handlers, and serves the
 * health, metrics and docs routes of every service with the query API behind the guard. The caller decides
 * where the app listens.
 * @throws whatever opening the host throws (a database or broker refusing, a migration failing), and an
 *   Error when the handlers do not match the service's subscriptions
 */
export async function startSagaService<Database, Service extends ConsumingService>(options: {
  service: Service;
  config: ServiceHostConfig;
  /** The service's `import.meta.url`: its `migrations/` folder is found from there. */
  moduleUrl: string;
  logger: Logger;
  parts: (
    host: ServiceHost<Database, Service>,
  ) => SagaServiceParts<Service> | Promise<SagaServiceParts<Service>>;
}): Promise<SagaService<Database, Service>> {
  const { config, logger } = options;
  const host = await openServiceHost<Database, Service>(options);
  const parts = await options.parts(host);
  const consumer = host.consume(parts.handlers);
  const app = await buildServiceApp({ ...host, logger });
  await app.register(async (guarded) => {
    await guarded.register(authenticate, {
      mode: config.auth.mode,
      verify: createTokenVerifier(config.auth),
      defaultAccess: 'operator',
    });
    await guarded.register(parts.routes);
  });
  return {
    app,
    host,
    consumer,
    async stop() {
      await app.close();
      for (const part of parts.beside ?? []) await part.stop();
      await host.stop();
    },
  };
}
