import type { FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import type { AuthMode } from './auth.config.js';
import { AuthError, type Principal, type TokenVerifier } from './token-verifier.js';

/**
 * Who may call a route: `public` (anyone, tokens ignored: health, metrics, docs), `anonymous` (anyone in
 * `optional` mode, a token otherwise: placing an order, reading one by id), `customer` (any valid token),
 * `operator` (a token with the operator role).
 */
export type Access = 'public' | 'anonymous' | 'customer' | 'operator';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; the guard's `defaultAccess` when absent. */
    access?: Access;
  }
  interface FastifyRequest {
    /** The caller its bearer token names; null for an anonymous caller (where the route allows one). */
    principal: Principal | null;
  }
}

/** What the guard needs: the mode, the verifier, and the access of routes that do not say theirs. */
export interface AuthenticateOptions {
  mode: AuthMode;
  verify: TokenVerifier;
  defaultAccess: Access;
}

/** RFC 6750 §2.1: `Bearer` and a b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const REALM = 'order-platform';

/**
 * Guards every route of the scope it is registered in (register it, with the routes, inside a scope of
 * their own: health, metrics and docs stay outside): reads the bearer token (RFC 6750), verifies it, and
 * sets `request.principal`. A missing token where one is needed, or any bad token (even on a route that
 * allows anonymous callers: a token that was sent must be good), is a `401` with a `WWW-Authenticate`
 * header saying why; a customer on an operator route is a `403`. Ownership (a customer's own orders) is
 * the routes' to check, with the principal.
 */
export const authenticate = fp<AuthenticateOptions>(
  async (app, options) => {
    app.decorateRequest('principal', null);
    app.addHook('onRequest', async (request, reply) => {
      const access = request.routeOptions.config.access ?? options.defaultAccess;
      if (access === 'public') return;
      const header = request.headers.authorization;
      if (header === undefined) {
        if (access === 'anonymous' && options.mode === 'optional') return;
        return refuse(reply, 'this route needs a bearer token (Authorization: Bearer <token>)');
      }
      const token = BEARER.exec(header)?.[1];
      if (token === undefined) {
        return refuse(reply, 'the Authorization header must be "Bearer <token>"', 'invalid_request');
      }
      try {
        request.principal = await options.verify(token);
      } catch (error) {
        if (error instanceof AuthError) return refuse(reply, error.message, 'invalid_token');
        throw error;
      }
      if (access === 'operator' && !request.principal.operator) {
        return reply.code(403).send({ message: 'this route needs the operator role' });
      }
    });
  },
  { name: '@platform/auth', fastify: '5.x' },
);

function refuse(reply: FastifyReply, message: string, error?: 'invalid_request' | 'invalid_token') {
  // RFC 6750 §3: the description is printable ASCII without quotes or backslashes.
  const description = message.replace(/[^\x20-\x7e]|["\\]/g, "'");
  const challenge = error
    ? `Bearer realm="${REALM}", error="${error}", error_description="${description}"`
    : `Bearer realm="${REALM}"`;
  return reply.code(401).header('www-authenticate', challenge).send({ message });
}

/**
 * The OpenAPI `security` of a route with this access in `mode`: the bearer scheme, optional (`{}`) where
 * an anonymous caller is allowed (`optional` mode). Pair with `bearerSecurityScheme` in the document.
 */
export function securityOf(access: Access, mode: AuthMode): Record<string, string[]>[] {
  if (access === 'public') return [];
  if (access === 'anonymous' && mode === 'optional') return [{}, { bearerAuth: [] }];
  return [{ bearerAuth: [] }];
}

/** The OpenAPI security scheme `securityOf` refers to. */
export const bearerSecurityScheme = {
  bearerAuth: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: "A JWT: `sub` is the customer's user id; `roles` containing `operator` makes an operator.",
  },
} as const;
