import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { decodeJwt, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';

// `npm run token` as a developer runs it (the built command, a process of its own).
const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const SECRET = 'a-development-secret-of-32-bytes-at-least';

const token = (args: string[], env: Record<string, string>) =>
  run(process.execPath, ['tools/dist/token/main.js', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
  });

describe('npm run token', () => {
  it('prints a token signed with AUTH_JWT_SECRET for --sub, with --role and --ttl', async () => {
    const { stdout } = await token(['--sub', 'customer-123', '--role', 'operator', '--ttl', '30m'], {
      AUTH_JWT_SECRET: SECRET,
      AUTH_ISSUER: 'local',
    });
    const { payload } = await jwtVerify(stdout.trim(), new TextEncoder().encode(SECRET), { issuer: 'local' });
    expect(payload).toMatchObject({ sub: 'customer-123', roles: ['operator'], iss: 'local' });
    const lifetime = (payload.exp ?? 0) - Math.floor(Date.now() / 1000);
    expect(lifetime).toBeGreaterThan(29 * 60);
    expect(lifetime).toBeLessThanOrEqual(30 * 60);
    const customer = await token(['--sub', 'customer-123'], { AUTH_JWT_SECRET: SECRET });
    expect(decodeJwt(customer.stdout.trim())).toMatchObject({ sub: 'customer-123', roles: [] });
  });

  it('refuses to run without a secret in required mode, and without --sub', async () => {
    const failure = (run: Promise<unknown>) =>
      run.then(
        () => ({ code: 0, stderr: '' }),
        (error: unknown) => error as { code: number; stderr: string },
      );
    const noSecret = await failure(token(['--sub', 'x'], { AUTH_MODE: 'required' }));
    expect(noSecret.code).toBe(1);
    expect(noSecret.stderr).toContain('AUTH_MODE=required: set AUTH_JWT_SECRET');
    const noSubject = await failure(token([], { AUTH_JWT_SECRET: SECRET }));
    expect(noSubject.code).toBe(1);
    expect(noSubject.stderr).toContain('usage: npm run token');
    const badTtl = await failure(token(['--sub', 'x', '--ttl', 'soon'], { AUTH_JWT_SECRET: SECRET }));
    expect(badTtl.code).toBe(1);
    expect(badTtl.stderr).toContain('--ttl');
  });
});
