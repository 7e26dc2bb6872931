import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { IDENTIFIER_PATTERN } from '@platform/contracts';
import type { AuthConfig } from './auth.config.js';

/** Who a valid token names: a customer (its `sub` is their user id), or an operator. */
export interface Principal {
  subject: string;
  operator: boolean;
}

/**
 * A token that cannot be trusted: missing where one is needed, malformed, badly signed, expired, not yet
 * valid, or for another issuer or audience. `code` is stable; `message` says which, for the 401's body
 * and `WWW-Authenticate` header (RFC 6750 §3).
 */
export class AuthError extends Error {
  readonly code = 'invalid_token';
  constructor(message: string) {
    super(message);
    this.name = 'AuthError';
  }
}

/** Checks a bearer token; resolves with its principal. */
export type TokenVerifier = (token: string) => Promise<Principal>;

/** Algorithms accepted from a JWKS: asymmetric only (a JWKS never holds a shared secret). */
const JWKS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];
const SUBJECT = new RegExp(IDENTIFIER_PATTERN);
/** Clock skew allowed on `exp` and `nbf`, in seconds. */
const CLOCK_TOLERANCE_S = 5;

/**
 * A verifier for the configured keys (see `AuthConfig`), with `jose`: HS256 with the shared secret, or
 * the identity provider's keys from its JWKS URL. The key set is cached (10 minutes) and fetched again
 * when a token names a key id it does not hold (at most every 5 s), so rotated keys are picked up
 * without a restart. `alg: none` and any algorithm other than the configured ones are refused (jose
 * never accepts unsecured tokens in `jwtVerify`). Without keys, every token is refused.
 * Claims: `sub` is the user id (SPEC's identifier rule), `roles` an array that may contain `operator`.
 */
export function createTokenVerifier(config: AuthConfig): TokenVerifier {
  const { keys } = config;
  if (!keys) {
    return () =>
      Promise.reject(
        new AuthError('no token can be verified: the service has no AUTH_JWT_SECRET or AUTH_JWKS_URL'),
      );
  }
  const options = {
    algorithms: keys.kind === 'secret' ? ['HS256'] : JWKS_ALGORITHMS,
    issuer: config.issuer,
    audience: config.audience,
    clockTolerance: CLOCK_TOLERANCE_S,
    // A token without an expiry would never expire; one without a subject names nobody.
    requiredClaims: ['exp', 'sub'],
  };
  let verify: (token: string) => Promise<{ payload: JWTPayload }>;
  if (keys.kind === 'secret') {
    const secret = new TextEncoder().encode(keys.secret);
    verify = (token) => jwtVerify(token, secret, options);
  } else {
    const keySet = createRemoteJWKSet(new URL(keys.url), { cacheMaxAge: 600_000, cooldownDuration: 5_000 });
    verify = (token) => jwtVerify(token, keySet, options);
  }
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await verify(token));
    } catch (error) {
      throw new AuthError(reasonOf(error));
    }
    return principalOf(payload);
  };
}

function principalOf(payload: JWTPayload): Principal {
  const { sub, roles } = payload;
  if (typeof sub !== 'string' || !SUBJECT.test(sub)) {
    throw new AuthError('the token has no valid sub (1 to 64 characters of A-Z a-z 0-9 . _ : -)');
  }
  if (roles !== undefined && !(Array.isArray(roles) && roles.every((role) => typeof role === 'string'))) {
    throw new AuthError("the token's roles must be an array of strings");
  }
  return { subject: sub, operator: Array.isArray(roles) && roles.includes('operator') };
}

/** What was wrong with a token, in words a client developer can act on. */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'the token is not valid yet';
    if (error.claim === 'iss') return 'the token is from another issuer';
    if (error.claim === 'aud') return 'the token is for another audience';
    return `the token's ${error.claim} claim is invalid`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return "the token's algorithm is not accepted";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "the token's signature is invalid";
  if (error instanceof errors.JWKSNoMatchingKey) return 'the token is signed with an unknown key';
  // The identity provider's keys could not be fetched: the token may be fine, it could not be checked.
  if (error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError)) {
    return 'the token could not be checked (the signing keys are unavailable)';
  }
  return 'the token is malformed';
}
