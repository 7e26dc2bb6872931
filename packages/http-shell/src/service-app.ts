import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { bearerSecurityScheme } from '@platform/auth';
import type { Broker } from '@platform/messaging';
import { httpMetricsPlugin, type Logger, type Registry } from '@platform/observability';
import type { Pool } from '@platform/postgres';
import { healthRoutes } from './health.routes.js';
import { addHttpEdges, correlationIdOptions } from './http-edges.js';

/** What the HTTP shell needs. */
export interface ServiceAppDeps {
  logger: Logger;
  registry: Registry;
  pool: Pool;
  broker: Pick<Broker, 'isConnected'>;
  /** Serves OpenAPI at `/openapi.json` and Swagger UI at `/docs` with this title and description. */
  docs?: { title: string; description: string };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The message of a 500 on this route, when clients rely on an exact text (seed 001). */
    internalErrorMessage?: string;
  }
}

/** Bodies are small here (an order is a few hundred bytes): a larger one is refused before parsing. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * The one HTTP shell of every service (fastify/demo's shape: one app, one error handler), without
 * listening, so tests can inject requests or listen on any port:
 * - correlation ids, health (`/health/live`, `/health/ready`), `/metrics`, a JSON 404;
 * - JSON only: another content type with a body is a `415`, an empty body is no body;
 * - one error contract: invalid input is `422 {message, errors: [{path, message}]}`, another client
 *   error `4xx {message}`, a failure of ours `500 {message}` without details (the route may fix the text);
 * - unknown body properties are an error, never silently dropped.
 */
export async function buildServiceApp(deps: ServiceAppDeps) {
  const logger: FastifyBaseLogger = deps.logger;
  const base = Fastify({
    loggerInstance: logger,
    bodyLimit: BODY_LIMIT_BYTES,
    // Bounded, so that idle or slow clients cannot hold connections (and a flood of them memory) for
    // long: a kept-alive connection closes after 5 s of silence (Fastify's default is 72 s), and a request
    // must arrive whole, headers included, within 10 s (Node's headersTimeout follows requestTimeout).
    keepAliveTimeout: 5_000,
    requestTimeout: 10_000,
    ...correlationIdOptions(),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: true } },
  });
  acceptJsonOnly(base);
  addHttpEdges(base);
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
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
  if (deps.docs) {
    await app.register(swagger, {
      openapi: {
        info: { title: deps.docs.title, version: '0.1.0', description: deps.docs.description },
        components: { securitySchemes: bearerSecurityScheme },
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
    app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  }
  await app.register(httpMetricsPlugin, { registry: deps.registry });
  await app.register(healthRoutes, { pool: deps.pool, broker: deps.broker });
  return app;
}

/** A service's HTTP app, as `buildServiceApp` makes it. */
export type ServiceApp = Awaited<ReturnType<typeof buildServiceApp>>;

/**
 * Fastify parses text/plain by default; these APIs speak JSON only. Many clients send `Content-Type:
 * application/json` with no body on a bodiless POST (`/cancel`), and `curl -X POST -d ''` an empty form:
 * an empty body is no body, and a route that needs one says so through its validation.
 */
function acceptJsonOnly(app: FastifyInstance): void {
  app.removeContentTypeParser('text/plain');
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
}

function clientErrorMessage(error: FastifyError): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `Request body is larger than ${BODY_LIMIT_BYTES} bytes`;
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'Unsupported content type: send the body as application/json';
    default:
      return error.message;
  }
}
