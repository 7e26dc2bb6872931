import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifyView from '@fastify/view';
import { Eta } from 'eta';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { Connection } from 'rabbitmq-client';
import { createTokenVerifier, signToken } from '@platform/auth';
import type { Logger } from '@platform/observability';
import { brokerAddresses } from '@platform/messaging';
import type { ConsoleConfig } from './config.js';
import { deadLettersRoutes } from './dead-letters/dead-letters.routes.js';
import { ordersRoutes } from './orders/orders.routes.js';
import { overviewRoutes } from './overview/overview.routes.js';
import { startSystemSampler } from './overview/system-sampler.js';
import { createServicesClient, ServiceUnavailableError } from './services.client.js';
import { loginRoutes } from './session/login.routes.js';
import { consoleUserOf, type ConsoleUser, type SessionOptions } from './session/operator-session.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `public`: served without a console user (the login page, health). */
    page?: 'public';
  }
  interface FastifyRequest {
    /** The operator using the console (or the console itself when it is open). */
    user: ConsoleUser;
  }
}

/** The running console: its app (not yet listening) and how to stop what it holds. */
export interface ConsoleService {
  app: FastifyInstance;
  stop(): Promise<void>;
}

const VIEWS = fileURLToPath(new URL('../../views/', import.meta.url));

/**
 * The operator console (issue 14): server-rendered pages over the order service, the other services'
 * query APIs and RabbitMQ's dead-letter queues; it owns no business data. Operators only: a login page
 * takes an operator's token and keeps it in a signed `HttpOnly`, `SameSite=Strict` cookie (`Secure` over
 * TLS); every form carries a CSRF token. Only when opened (CONSOLE_OPEN, with AUTH_MODE=optional and a key
 * to sign with) do callers on the loopback interface need no login, and a banner says so. Every page is
 * sent with a content security policy, `frame-ancestors 'none'`, `nosniff` and `no-referrer` (helmet).
 */
export async function createConsoleService(config: ConsoleConfig, logger: Logger): Promise<ConsoleService> {
  const verify = createTokenVerifier(config.auth);
  const keys = config.auth.keys;
  let own: { token: string; until: number } | undefined;
  const session: SessionOptions = {
    verify,
    openToken:
      config.open && config.auth.mode === 'optional' && keys?.kind === 'secret'
        ? async () => {
            // The console's own operator token for an open console, renewed before it expires.
            if (!own || own.until < Date.now() + 60_000) {
              const token = await signToken(keys.secret, {
                subject: 'console',
                roles: ['operator'],
                ttlS: 3600,
                issuer: config.auth.issuer,
                audience: config.auth.audience,
              });
              own = { token, until: Date.now() + 3_600_000 };
            }
            return own.token;
          }
        : undefined,
  };
  const client = createServicesClient(config.apis, config.metricsUrls);
  const sampler = startSystemSampler(client, config.sagaDeadlineMs);
  const connection = new Connection({
    ...brokerAddresses(config.rabbitmq.url),
    connectionName: 'console',
    retryHigh: 2_000,
  });
  connection.on('error', (error) => logger.warn({ err: error }, 'rabbitmq connection error'));

  const base: FastifyBaseLogger = logger;
  const app = Fastify({ loggerInstance: base });
  await app.register(fastifyCookie, {
    secret: config.sessionSecret ?? randomBytes(32).toString('base64url'),
  });
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // The layout's one <style> block and a few style attributes: inline styles, never inline scripts.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'self'"],
        objectSrc: ["'none'"],
        // Plain http on a developer's machine: upgrading would break every link to 127.0.0.1.
        upgradeInsecureRequests: null,
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    // frame-ancestors 'none' for browsers that read only the older header.
    frameguard: { action: 'deny' },
    // Served over plain http in development; an ingress terminating TLS sets HSTS itself.
    strictTransportSecurity: false,
  });
  await app.register(fastifyFormbody);
  await app.register(fastifyCsrf, {
    sessionPlugin: '@fastify/cookie',
    cookieOpts: { path: '/', httpOnly: true, sameSite: 'strict', signed: true, secure: config.cookieSecure },
  });
  await app.register(fastifyView, { engine: { eta: new Eta({ views: VIEWS }) }, templates: VIEWS });

  app.get('/health/live', { config: { page: 'public' } }, () => ({ status: 'ok' }));
  app.get('/health/ready', { config: { page: 'public' } }, () => ({ status: 'ok' }));

  app.decorateRequest('user', null as unknown as ConsoleUser);
  app.addHook('preHandler', async (request, reply) => {
    if (request.routeOptions.config.page === 'public' || request.routeOptions.url === undefined) return;
    const user = await consoleUserOf(request, session);
    if (!user) return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 303);
    request.user = user;
  });

  app.setErrorHandler(async (error, request, reply) => {
    if (error instanceof ServiceUnavailableError) {
      return reply.code(502).view('error.eta', { user: request.user, message: error.message });
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).view('error.eta', { user: request.user, message: (error as Error).message });
    }
    request.log.error({ err: error }, 'console page failed');
    return reply.code(500).view('error.eta', { user: request.user, message: 'Internal error' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).view('not-found.eta', { user: request.user, what: request.url }),
  );

  await app.register(loginRoutes, { verify, secureCookies: config.cookieSecure });
  await app.register(overviewRoutes, { sampler });
  await app.register(ordersRoutes, { client, traceUrl: config.traceUrl });
  await app.register(deadLettersRoutes, { connection, exchange: config.rabbitmq.exchange });

  return {
    app,
    async stop() {
      sampler.stop();
      await app.close();
      await connection.close();
    },
  };
}
