import { Type, type Static } from 'typebox';
import { ConfigError } from '@platform/config';

/**
 * The authentication variables every service reads (SPEC §5): the mode, and where keys come from (a
 * shared secret for HS256, or a JWKS URL), with the issuer and audience tokens must name when set.
 */
export const authEnvSchema = {
  AUTH_MODE: Type.Enum(['optional', 'required'], {
    default: 'optional',
    description:
      '`optional`: anonymous callers may place and read orders by id; `required`: every route but probes, ' +
      'metrics and docs needs a bearer token',
  }),
  // 32 bytes is HS256's key size (RFC 7518 §3.2: a key of at least the hash's size).
  AUTH_JWT_SECRET: Type.Optional(
    Type.String({
      minLength: 32,
      description:
        'HS256 secret, 32 characters or more; development only (`npm start` generates one when unset); ' +
        'not with AUTH_JWKS_URL',
    }),
  ),
  AUTH_JWKS_URL: Type.Optional(
    Type.String({
      pattern: '^https?://',
      description:
        "The identity provider's JWKS URL, instead of a secret (needs AUTH_ISSUER and AUTH_AUDIENCE)",
    }),
  ),
  AUTH_ISSUER: Type.Optional(
    Type.String({ minLength: 1, description: 'The `iss` claim tokens must carry, when set' }),
  ),
  AUTH_AUDIENCE: Type.Optional(
    Type.String({ minLength: 1, description: 'The `aud` claim tokens must carry, when set' }),
  ),
};

type AuthEnv = Static<ReturnType<typeof Type.Object<typeof authEnvSchema>>>;

/**
 * How callers are authenticated. `optional`: anonymous callers may place an order and read one by id;
 * everything else needs a token. `required`: every route but health, metrics and the docs needs one.
 */
export type AuthMode = 'optional' | 'required';

/** Authentication as configured; `keys` absent means no token can be verified (every token is refused). */
export interface AuthConfig {
  mode: AuthMode;
  keys?: { kind: 'secret'; secret: string } | { kind: 'jwks'; url: string };
  issuer?: string;
  audience?: string;
}

/**
 * The auth part of a service's parsed environment.
 * @throws ConfigError when both a secret and a JWKS URL are set, or when `required` mode has neither
 */
export function toAuthConfig(env: AuthEnv): AuthConfig {
  if (env.AUTH_JWT_SECRET !== undefined && env.AUTH_JWKS_URL !== undefined) {
    throw new ConfigError(['AUTH_JWT_SECRET and AUTH_JWKS_URL: set one of them, not both']);
  }
  const keys: AuthConfig['keys'] =
    env.AUTH_JWT_SECRET !== undefined
      ? { kind: 'secret', secret: env.AUTH_JWT_SECRET }
      : env.AUTH_JWKS_URL !== undefined
        ? { kind: 'jwks', url: env.AUTH_JWKS_URL }
        : undefined;
  // An identity provider signs tokens for many applications: only those issued for this one count.
  if (keys?.kind === 'jwks' && (env.AUTH_ISSUER === undefined || env.AUTH_AUDIENCE === undefined)) {
    throw new ConfigError([
      'AUTH_JWKS_URL needs AUTH_ISSUER and AUTH_AUDIENCE (the tokens meant for this system)',
    ]);
  }
  if (env.AUTH_MODE === 'required' && !keys) {
    throw new ConfigError([
      'AUTH_MODE=required needs AUTH_JWT_SECRET (HS256) or AUTH_JWKS_URL (keys of your identity provider)',
    ]);
  }
  return {
    mode: env.AUTH_MODE,
    ...(keys && { keys }),
    ...(env.AUTH_ISSUER !== undefined && { issuer: env.AUTH_ISSUER }),
    ...(env.AUTH_AUDIENCE !== undefined && { audience: env.AUTH_AUDIENCE }),
  };
}
