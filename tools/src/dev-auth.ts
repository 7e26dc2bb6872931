import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { authEnvSchema, signToken } from '@platform/auth';
import { parseEnv } from '@platform/config';
import { Type } from 'typebox';

/**
 * Where `npm start` keeps the development secret it generated when none was configured (`.dev/`, ignored
 * by git), so that tokens outlive a restart and `npm run token` and `npm run demo` can sign with it. Never
 * used in `AUTH_MODE=required`: production keys are configured, not generated.
 */
const DEV_SECRET_FILE = fileURLToPath(new URL('../../.dev/auth-secret', import.meta.url));

/** The auth settings the tools read: the services' own variables. */
export function loadToolAuthConfig(env: Record<string, string | undefined>) {
  const e = parseEnv(Type.Object(authEnvSchema), env);
  return {
    mode: e.AUTH_MODE,
    secret: e.AUTH_JWT_SECRET,
    jwksUrl: e.AUTH_JWKS_URL,
    issuer: e.AUTH_ISSUER,
    audience: e.AUTH_AUDIENCE,
  };
}

/** The development secret, read from `.dev/auth-secret`; with `create`, made (32 random bytes) if missing. */
export async function developmentSecret(create: boolean): Promise<string | undefined> {
  const existing = await readFile(DEV_SECRET_FILE, 'utf8').catch(() => undefined);
  if (existing !== undefined || !create) return existing?.trim();
  await mkdir(dirname(DEV_SECRET_FILE), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  // `wx`: two supervisors starting at once keep the first one's secret.
  await writeFile(DEV_SECRET_FILE, `${secret}\n`, { flag: 'wx', mode: 0o600 }).catch(() => undefined);
  return (await readFile(DEV_SECRET_FILE, 'utf8')).trim();
}

/**
 * The secret tools sign tokens with: AUTH_JWT_SECRET, or in `optional` mode the development secret of
 * `npm start`; undefined when there is none (JWKS mode: tokens come from the identity provider).
 */
export async function signingSecret(
  auth: ReturnType<typeof loadToolAuthConfig>,
): Promise<string | undefined> {
  if (auth.secret !== undefined) return auth.secret;
  if (auth.mode === 'required' || auth.jwksUrl !== undefined) return undefined;
  return developmentSecret(false);
}

/** A token for `subject` (with `roles`), valid `ttlS` seconds, signed with `secret` (HS256). */
export function developmentToken(
  secret: string,
  auth: ReturnType<typeof loadToolAuthConfig>,
  subject: string,
  roles: readonly string[],
  ttlS: number,
): Promise<string> {
  return signToken(secret, { subject, roles, ttlS, issuer: auth.issuer, audience: auth.audience });
}
