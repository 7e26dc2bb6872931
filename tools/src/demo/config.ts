import { Type } from 'typebox';
import { parseEnv } from '@platform/config';

const DemoEnv = Type.Object({
  DEMO_TIMEOUT_MS: Type.Integer({ minimum: 1000, default: 180_000 }),
});

/** The demo's own setting, and the environment the system was started with (for its URLs). */
export function loadDemoConfig(env: Record<string, string | undefined> = process.env) {
  const e = parseEnv(DemoEnv, env);
  return { env, timeoutMs: e.DEMO_TIMEOUT_MS, colour: process.stdout.isTTY && env.NO_COLOR === undefined };
}
