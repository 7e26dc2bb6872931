export { authEnvSchema, toAuthConfig, type AuthConfig, type AuthMode } from './auth.config.js';
export {
  authenticate,
  bearerSecurityScheme,
  securityOf,
  type Access,
  type AuthenticateOptions,
} from './authenticate.plugin.js';
export { AuthError, createTokenVerifier, type Principal, type TokenVerifier } from './token-verifier.js';
export { signToken, type TokenClaims } from './sign-token.js';
