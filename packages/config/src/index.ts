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
    return `${name}: ${error.message}${value === undefined ? ' (not set)' : ` (got ${JSON.stringify(value)})`}`;
  });
  throw new ConfigError(problems);
}

function missingName(params: unknown): string {
  if (typeof params === 'object' && params !== null && 'requiredProperties' in params) {
    return String(params.requiredProperties);
  }
  return '';
}
