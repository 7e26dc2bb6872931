import type { FastifyPluginAsync, preValidationHookHandler } from 'fastify';
import { AuthError, type TokenVerifier } from '@platform/auth';
import { endSession, startSession } from './operator-session.js';

const HERE = 'http://console.invalid';

/**
 * Where to go after logging in: a path of this console only, never another site (`//evil`, `/\\evil`
 * and control characters are read by browsers as other hosts, so the path is resolved and compared).
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.includes('\\')) return '/';
  // Control characters (a tab or a newline in `/\t/evil`) are dropped by URL parsers: refused here.
  for (let i = 0; i < next.length; i += 1) {
    const code = next.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return '/';
  }
  const url = new URL(next, HERE);
  return url.origin === HERE ? `${url.pathname}${url.search}` : '/';
}

/**
 * What `/login.js` does: a login link (`/login#token=…`, as `npm start` prints) fills the form from the
 * URL's fragment, which browsers never send to a server (no token in an access log), takes the fragment
 * out of the address bar and history, and posts the form. A file of its own: the console's content
 * security policy runs no inline script.
 */
const LOGIN_LINK_SCRIPT = `const token = new URLSearchParams(location.hash.slice(1)).get('token');
if (token) {
  history.replaceState(null, '', location.pathname + location.search);
  document.getElementById('token').value = token;
  document.getElementById('login').submit();
}
`;

/** `GET /login` (a form that takes a token, or a login link's), `POST /login`, `POST /logout`. */
export const loginRoutes: FastifyPluginAsync<{ verify: TokenVerifier; secureCookies: boolean }> = async (
  app,
  { verify, secureCookies },
) => {
  // Forms are parsed before the check: the token travels in the body (`_csrf`).
  const csrf: preValidationHookHandler = (request, reply, done) => {
    app.csrfProtection(request, reply, done);
  };
  app.get<{ Querystring: { next?: string } }>(
    '/login',
    { config: { page: 'public' } },
    async (request, reply) =>
      reply.view('login.eta', {
        csrf: reply.generateCsrf(),
        next: safeNext(request.query.next),
        error: undefined,
      }),
  );

  app.get('/login.js', { config: { page: 'public' } }, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(LOGIN_LINK_SCRIPT),
  );

  app.post<{ Body: { token?: string; next?: string } }>(
    '/login',
    { config: { page: 'public' }, preValidation: csrf },
    async (request, reply) => {
      const next = safeNext(request.body.next);
      try {
        await startSession(
          reply,
          (request.body.token ?? '').trim(),
          verify,
          secureCookies || request.protocol === 'https',
        );
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        const forbidden = /operator role/.test(error.message);
        return reply
          .code(forbidden ? 403 : 401)
          .view('login.eta', { csrf: reply.generateCsrf(), next, error: error.message });
      }
      return reply.redirect(next, 303);
    },
  );

  app.post('/logout', { preValidation: csrf }, async (_request, reply) => {
    endSession(reply);
    return reply.redirect('/login', 303);
  });
};
