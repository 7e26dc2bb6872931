import { randomUUID } from 'node:crypto';
import { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';

/**
 * Fastify options that make the request id the correlation id: taken from `x-correlation-id` when the
 * caller sends one, a fresh UUID otherwise, and logged as `correlation_id` like the event handlers' lines.
 */
export function correlationIdOptions(): Pick<
  FastifyServerOptions,
  'requestIdHeader' | 'logController' | 'genReqId'
> {
  return {
    requestIdHeader: 'x-correlation-id',
    // Fastify's two info lines per request were a tenth of the log volume at load (issue 9); addHttpEdges
    // writes one line per request at debug instead.
    logController: new LogController({ requestIdLogLabel: 'correlation_id', disableRequestLogging: true }),
    genReqId: () => randomUUID(),
  };
}

/**
 * What every HTTP app of the platform does at its edges: echoes the correlation id, answers unknown routes
 * with a JSON 404, and, once closing, asks each client to hang up. Node closes only the connections idle
 * at the moment the server closes; one finishing a request then would sit idle until the keep-alive
 * timeout (72 s) and hold the shutdown, so each connection must end with its last in-flight request.
 */
export function addHttpEdges(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-correlation-id', request.id);
    if (closing) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug(
      { method: request.method, url: request.url, status: reply.statusCode, ms: reply.elapsedTime },
      'request completed',
    );
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ message: `No route ${request.method} ${request.url.split('?')[0] ?? ''}` }),
  );
}
