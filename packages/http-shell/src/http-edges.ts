import { randomUUID } from 'node:crypto';
import { IDENTIFIER_PATTERN } from '@platform/contracts';
import { LogController, type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';

const CORRELATION_ID = new RegExp(IDENTIFIER_PATTERN);

/**
 * Fastify options that make the request id the correlation id: taken from `x-correlation-id` when the
 * caller sends one that passes the identifier rule (`IDENTIFIER_PATTERN`: it is logged and echoed, so a
 * kilobyte of control characters must not be), a fresh UUID otherwise, and logged as `correlation_id`
 * like the event handlers' lines.
 */
export function correlationIdOptions(): Pick<
  FastifyServerOptions,
  'requestIdHeader' | 'logController' | 'genReqId'
> {
  return {
    requestIdHeader: false,
    // Fastify's two info lines per request were a tenth of the log volume at load (issue 9); addHttpEdges
    // writes one line per request at debug instead.
    logController: new LogController({ requestIdLogLabel: 'correlation_id', disableRequestLogging: true }),
    genReqId: (request) => {
      const sent = request.headers['x-correlation-id'];
      return typeof sent === 'string' && CORRELATION_ID.test(sent) ? sent : randomUUID();
    },
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
  app.addHook('preValidation', async (request) => refuseLooseNumbers(request));
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ message: `No route ${request.method} ${request.url.split('?')[0] ?? ''}` }),
  );
}

/** What Ajv's coercion would turn into a finite number (and a whole one when `integer`), as `+text` does. */
function isFiniteNumberText(text: unknown, integer: boolean): boolean {
  if (typeof text !== 'string' || text.trim() === '') return false;
  const value = Number(text);
  return Number.isFinite(value) && (!integer || Number.isSafeInteger(value));
}

/**
 * Numbers in a query string or path are parsed strictly, before the schema's coercion sees them: Ajv
 * coerces `1e309` and `Infinity` to Infinity, which then passes `type: integer` and `maximum` (seen: a
 * `500` from PostgreSQL for `LIMIT Infinity`). A value that is not a finite number (a safe integer where
 * the schema says `integer`) is refused with a validation error naming the field, answered by the app's
 * error handler like any other; `1e3` still reaches the schema, which answers that it exceeds the maximum.
 */
function refuseLooseNumbers(request: FastifyRequest): void {
  const schema = request.routeOptions.schema;
  if (!schema) return;
  for (const [context, values] of [
    ['querystring', request.query],
    ['params', request.params],
  ] as const) {
    const properties = (schema[context] as { properties?: Record<string, { type?: unknown }> } | undefined)
      ?.properties;
    if (!properties || typeof values !== 'object' || values === null) continue;
    for (const [key, property] of Object.entries(properties)) {
      if (property.type !== 'integer' && property.type !== 'number') continue;
      const integer = property.type === 'integer';
      const raw: unknown = (values as Record<string, unknown>)[key];
      if (raw === undefined) continue;
      const texts: unknown[] = Array.isArray(raw) ? raw : [raw];
      if (texts.every((text) => isFiniteNumberText(text, integer))) continue;
      const message = `must be a finite ${integer ? 'whole number' : 'number'}`;
      throw Object.assign(new Error(`${context}/${key} ${message}`), {
        statusCode: 400,
        validation: [{ instancePath: `/${key}`, message }],
        validationContext: context,
      });
    }
  }
}
