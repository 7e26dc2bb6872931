import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import type { Broker } from '@platform/messaging';
import { httpMetricsPlugin, type Logger, type Registry } from '@platform/observability';
import type { Pool } from '@platform/postgres';
import { addHttpEdges, correlationIdOptions, healthRoutes, type Transact } from '@platform/service-host';
import type { OrderDatabase } from './database.js';
import type { AdmissionControl } from './orders/admission-control.js';
import type { OrderIntake } from './orders/order-intake.js';
import { ordersRoutes } from './orders/orders.routes.js';

/** Everything the HTTP API needs, built by the composition root. */
export interface AppDeps {
  db: Kysely<OrderDatabase>;
  transact: Transact<OrderDatabase>;
  pool: Pool;
  broker: Pick<Broker, 'isConnected'>;
  intake: OrderIntake;
  admission: AdmissionControl;
  logger: Logger;
  registry: Registry;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The message of a 500 on this route, when clients rely on an exact text. */
    internalErrorMessage?: string;
  }
}

// Orders are small: a 64 KiB body is already absurd, and anything larger is refused before parsing.
const BODY_LIMIT = 64 * 1024;

/** Builds the order API without listening, so tests can inject requests or listen on any port. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const logger: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: BODY_LIMIT,
    ...correlationIdOptions(),
    // Unknown properties are an error the client should hear about, never silently dropped.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Fastify parses text/plain by default; this API speaks JSON only, anything else is a 415.
  app.removeContentTypeParser('text/plain');
  // Many clients send `Content-Type: application/json` with no body on a bodiless POST (`/cancel`): an
  // empty body is no body, and a route that needs one says so through its validation.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body.length === 0) {
      done(null, undefined);
      return;
    }
    // The default parser answers through `done`; it returns nothing to await.
    void parseJson(request, body.toString(), done);
  });
  // Any other content type is refused, unless it carries nothing: `curl -X POST -d '' …/cancel` sends an
  // empty form body to a route that needs none.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body: Buffer, done) => {
    if (body.length === 0) {
      done(null, undefined);
      return;
    }
    done(
      Object.assign(new Error('unsupported media type'), {
        statusCode: 415,
        code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
      }),
    );
  });

  addHttpEdges(app);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      return reply.code(422).send({
        message: `Invalid ${error.validationContext ?? 'request'}`,
        errors: error.validation.map((problem) => ({
          path: `${error.validationContext ?? ''}${problem.instancePath}`,
          message: problem.message ?? 'is invalid',
        })),
      });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ message: clientErrorMessage(error) });
    }
    request.log.error({ err: error }, 'request failed');
    return reply
      .code(500)
      .send({ message: request.routeOptions.config.internalErrorMessage ?? 'Internal server error' });
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Order API',
        version: '0.1.0',
        description: 'Places orders and shows how each one is carried to COMPLETED or CANCELLED.',
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  await app.register(httpMetricsPlugin, { registry: deps.registry });
  await app.register(healthRoutes, { pool: deps.pool, broker: deps.broker });
  const routes = { db: deps.db, transact: deps.transact, intake: deps.intake, admission: deps.admission };
  await app.register(ordersRoutes, { prefix: '/orders', ...routes });
  await app.register(ordersRoutes, { prefix: '/api/orders', ...routes, hideFromDocs: true });
  return app;
}

function clientErrorMessage(error: FastifyError): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `Request body is larger than ${BODY_LIMIT} bytes`;
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'Unsupported content type: send the body as application/json';
    default:
      return error.message;
  }
}
