import { parseArgs } from 'node:util';
import { ConfigError } from '@platform/config';
import { developmentToken, signingSecret, type loadToolAuthConfig } from '../dev-auth.js';
import { loadTokenConfig } from './config.js';

// `npm run token -- --sub customer-123 [--role operator] [--ttl 1h]`: prints a bearer token signed with
// AUTH_JWT_SECRET (or, in optional mode, the development secret `npm start` generated). For development
// and tests only.
const USAGE = 'usage: npm run token -- --sub <user id> [--role operator] [--ttl 1h | 30m | 7d | 3600s]';
const UNIT_S: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

let args: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      sub: { type: 'string' },
      role: { type: 'string', multiple: true, default: [] },
      ttl: { type: 'string', default: '1h' },
    },
    strict: true,
  }).values;
}
try {
  args = parse();
} catch (error) {
  fail(`${(error as Error).message}\n${USAGE}`);
}
if (args.sub === undefined) fail(USAGE);
const ttl = /^(\d+)([smhd])$/.exec(args.ttl);
if (!ttl) fail(`--ttl: a number and a unit (s, m, h, d), got ${args.ttl}\n${USAGE}`);
const ttlS = Number(ttl[1]) * (UNIT_S[ttl[2] ?? 's'] ?? 1);

let auth: ReturnType<typeof loadToolAuthConfig>;
try {
  auth = loadTokenConfig();
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}
const secret = await signingSecret(auth);
if (secret === undefined) {
  fail(
    auth.mode === 'required'
      ? 'AUTH_MODE=required: set AUTH_JWT_SECRET (a development secret is never used in required mode)'
      : 'No secret to sign with: set AUTH_JWT_SECRET, or run `npm start` once (it generates a development secret)',
  );
}
process.stdout.write(`${await developmentToken(secret, auth, args.sub, args.role, ttlS)}\n`);
