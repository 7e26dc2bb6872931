import type { Static, TObject } from 'typebox';
import { Value } from 'typebox/value';

/** Thrown when the environment does not satisfy a service's configuration schema; lists every problem. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses environment variables against a schema whose keys are the variable names: defaults applied,
 * strings converted to the declared types, unknown variables ignored, all problems reported at once.
 */
export function parseEnv<T extends TObject>(schema: T, env: Record<string, string | undefined>): Static<T> {
  const relevant: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const raw = env[key];
    // An empty variable (`FOO=`) means "not set", as in most twelve-factor tooling.
    if (raw !== undefined && raw !== '') relevant[key] = raw;
  }
  const withDefaults = Value.Default(schema, relevant);
  const converted = Value.Convert(schema, withDefaults);
  if (Value.Check(schema, converted)) return converted;
  const problems = [...Value.Errors(schema, converted)].map((error) => {
    const name = error.instancePath.replace(/^\//, '') || missingName(error.params);
    const value = name ? env[name] : undefined;
    return `${name}: ${error.message}${describeValue(name, value)}`;
  });
  throw new ConfigError(problems);
}

/** Names of variables whose values are secrets (issue 22): never printed, whatever they hold. */
const SECRET_NAME = /SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE|CREDENTIAL|API_KEY|COOKIE/i;
/** A URL with a password or user in it (`scheme://user:pass@host`), from any variable. */
const URL_WITH_USERINFO = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]+@/i;

/**
 * What an error says of the value it got: the value itself where that is safe, since it is what the
 * operator needs to see, but never a secret (SPEC §4.10: nothing generated for development, or set for
 * production, leaves the machine in a log line). Logs are shipped and kept; a short `AUTH_JWT_SECRET` or a
 * `DATABASE_URL` with its password printed to stderr is a secret leaked to everyone who reads them.
 */
function describeValue(name: string, value: string | undefined): string {
  if (value === undefined) return ' (not set)';
  if (SECRET_NAME.test(name)) return ` (a value of ${value.length} characters, not shown: a secret)`;
  if (URL_WITH_USERINFO.test(value) || value.split(',').some((part) => URL_WITH_USERINFO.test(part))) {
    return ' (a URL with credentials, not shown)';
  }
  return ` (got ${JSON.stringify(value)})`;
}

function missingName(params: unknown): string {
  if (typeof params === 'object' && params !== null && 'requiredProperties' in params) {
    return String(params.requiredProperties);
  }
  return '';
}
