import { SignJWT } from 'jose';

/**
 * What a development token says: its subject, roles, lifetime in seconds from now (negative: already
 * expired, for tests), and the issuer and audience if set.
 */
export interface TokenClaims {
  subject: string;
  roles: readonly string[];
  ttlS: number;
  issuer?: string;
  audience?: string;
}

/**
 * Signs an HS256 token with a shared secret (AUTH_JWT_SECRET): what `npm run token` prints and what
 * `npm start` gives the operator. For development and tests only; production tokens come from an
 * identity provider whose keys the services read from AUTH_JWKS_URL.
 */
export async function signToken(secret: string, claims: TokenClaims): Promise<string> {
  let jwt = new SignJWT({ roles: [...claims.roles] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.subject)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + claims.ttlS);
  if (claims.issuer !== undefined) jwt = jwt.setIssuer(claims.issuer);
  if (claims.audience !== undefined) jwt = jwt.setAudience(claims.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
