import { loadToolAuthConfig } from '../dev-auth.js';

/** The token command's settings: the services' own auth variables (AUTH_MODE, AUTH_JWT_SECRET, …). */
export function loadTokenConfig(env: Record<string, string | undefined> = process.env) {
  return loadToolAuthConfig(env);
}
