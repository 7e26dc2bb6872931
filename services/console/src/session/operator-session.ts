import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthError, type TokenVerifier } from '@platform/auth';

/** The session cookie: the operator's token, signed by the console, `HttpOnly`, `SameSite=Strict`. */
export const SESSION_COOKIE = 'console_session';

/** Who is using the console: an operator's token, or the console's own when it is open (see below). */
export interface ConsoleUser {
  subject: string;
  /** The bearer token the console calls the services with, on this operator's behalf. */
  token: string;
  /** Open console: no login, because CONSOLE_OPEN (with AUTH_MODE=optional) and the caller is on this machine. */
  open: boolean;
}

/** What deciding a request's user needs. */
export interface SessionOptions {
  verify: TokenVerifier;
  /**
   * The console's own operator token, when it may be open: CONSOLE_OPEN, AUTH_MODE=optional and a key to
   * sign with. A caller on this machine (isLocalRequest) then needs no login (and a banner says so).
   */
  openToken: (() => Promise<string>) | undefined;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const LOOPBACK_HOST = /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

/**
 * Whether the request comes from this machine itself: from the loopback interface, addressed to a
 * loopback name (a page of another site rebinding its name to 127.0.0.1 is not) and to the port the
 * console listens on (a relay listening on another port is addressed to its own), and not relayed by a
 * proxy (which would make every remote caller look local). A plain TCP relay whose callers write
 * `Host: localhost:<console port>` passes all of this: why the open console is opt-in (SPEC §4.10).
 */
export function isLocalRequest(request: FastifyRequest): boolean {
  const { headers } = request;
  const host = LOOPBACK_HOST.exec(headers.host ?? '');
  return (
    LOOPBACK.has(request.socket.remoteAddress ?? '') &&
    host !== null &&
    Number(host[2]?.slice(1) ?? 80) === request.socket.localPort &&
    headers.forwarded === undefined &&
    headers['x-forwarded-for'] === undefined &&
    headers['x-forwarded-host'] === undefined &&
    headers['x-real-ip'] === undefined
  );
}

/**
 * The request's user: the operator whose token the session cookie holds (verified again on every
 * request: an expired or revoked-by-rotation token ends the session), or, on an open console, the console
 * itself. Undefined when the caller must log in.
 * @throws AuthError when the session holds a customer's token (operators only, SPEC §4.10)
 */
export async function consoleUserOf(
  request: FastifyRequest,
  options: SessionOptions,
): Promise<ConsoleUser | undefined> {
  const cookie = request.cookies[SESSION_COOKIE];
  const unsigned = cookie === undefined ? undefined : request.unsignCookie(cookie);
  if (unsigned?.valid === true) {
    const principal = await options.verify(unsigned.value).catch(() => undefined);
    if (principal?.operator === true)
      return { subject: principal.subject, token: unsigned.value, open: false };
  }
  if (options.openToken && isLocalRequest(request)) {
    return { subject: 'console (open)', token: await options.openToken(), open: true };
  }
  return undefined;
}

/**
 * Logs in with a token pasted on the login page: verified, and an operator's, it becomes the session
 * cookie (until the token expires).
 * @throws AuthError for a bad token, or a customer's (operators only)
 */
export async function startSession(
  reply: FastifyReply,
  token: string,
  verify: TokenVerifier,
  secure: boolean,
): Promise<void> {
  const principal = await verify(token);
  if (!principal.operator)
    throw new AuthError('the console is for operators: this token has no operator role');
  reply.setCookie(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure,
    signed: true,
    maxAge: expiresInS(token),
  });
}

/** Seconds until the token's `exp` (already verified), at least one. */
function expiresInS(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    exp?: number;
  };
  return Math.max(1, (payload.exp ?? 0) - Math.floor(Date.now() / 1000));
}

/** Ends the session. */
export function endSession(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
}
