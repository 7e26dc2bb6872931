import { Type } from 'typebox';
import { parseEnv } from '@platform/config';
import { SupervisorEnv } from '../supervisor/config.js';

/**
 * Every variable `npm run demo` reads itself, each with a `description`: docs/configuration.md and
 * .env.example are generated from them (`npm run config-docs`).
 */
export const DemoEnv = Type.Object({
  DEMO_TIMEOUT_MS: Type.Integer({
    minimum: 1000,
    default: 180_000,
    description: 'How long `npm run demo` waits for one order to be final, in ms',
  }),
  // Read through the schema, as npm start reads it, so that an empty NO_COLOR (`NO_COLOR=` in a sourced
  // .env) means unset here too, as no-color.org has it.
  NO_COLOR: SupervisorEnv.properties.NO_COLOR,
});

/** The demo's own setting, and the environment the system was started with (for its URLs). */
export function loadDemoConfig(env: Record<string, string | undefined> = process.env) {
  const e = parseEnv(DemoEnv, env);
  return { env, timeoutMs: e.DEMO_TIMEOUT_MS, colour: process.stdout.isTTY && e.NO_COLOR === undefined };
}
