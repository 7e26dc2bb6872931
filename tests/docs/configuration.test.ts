import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as prettier from 'prettier';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// docs/configuration.md and .env.example are generated from the configuration schemas (`npm run
// config-docs`, issue 23): a variable added, renamed or given another default without regenerating them,
// or either file edited by hand, fails here. npm test builds tools/dist first (tsc -b).
const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const GENERATOR = 'tools/dist/config-docs/main.js';
const FILES = ['docs/configuration.md', '.env.example', 'docs/lifecycle.md'] as const;
const read = (path: string) => readFile(join(root, path), 'utf8');

/** The generator's exit code and output; `run` rejects on a non-zero exit, which is an answer here. */
async function generate(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [GENERATOR, ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('docs/configuration.md and .env.example', () => {
  it('are what npm run config-docs generates, with every schema property described', async () => {
    // Exit 2 would mean a property without a description, exit 1 a stale file.
    const result = await generate('--check');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  describe('edited by hand', () => {
    let copy: string;
    beforeAll(async () => {
      copy = await mkdtemp(join(tmpdir(), 'config-docs-'));
      await mkdir(join(copy, 'docs'));
    });
    afterAll(() => rm(copy, { recursive: true, force: true }));

    const place = async (edits: Partial<Record<(typeof FILES)[number], (text: string) => string>>) => {
      for (const path of FILES) {
        const text = await read(path);
        await writeFile(join(copy, path), (edits[path] ?? ((same: string) => same))(text));
      }
    };

    it('pass when unchanged', async () => {
      await place({});
      expect((await generate('--check', '--out', copy)).code).toBe(0);
    });

    it('are named as stale, and nothing is written', async () => {
      const edited = (text: string) => text.replace('| `ORDER_PORT`', '| `ORDER_PORT` ');
      await place({ 'docs/configuration.md': edited });
      const result = await generate('--check', '--out', copy);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('docs/configuration.md');
      expect(result.stderr).not.toContain('.env.example');
      expect(await readFile(join(copy, 'docs/configuration.md'), 'utf8')).toBe(
        edited(await read('docs/configuration.md')),
      );

      await place({ '.env.example': (text) => text.replace('ORDER_PORT=8000', 'ORDER_PORT=9000') });
      const env = await generate('--check', '--out', copy);
      expect(env.code).toBe(1);
      expect(env.stderr).toContain('.env.example');
      expect(env.stderr).not.toContain('docs/configuration.md');
    });

    it('are rewritten by npm run config-docs', async () => {
      await place({ 'docs/configuration.md': () => '# Configuration\n', '.env.example': () => '' });
      expect((await generate('--out', copy)).code).toBe(0);
      for (const path of FILES) expect(await readFile(join(copy, path), 'utf8')).toBe(await read(path));
    });
  });

  it('list each variable once', async () => {
    const names = (await read('.env.example'))
      .split('\n')
      .map((line) => /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
      .filter((name): name is string => name !== undefined);
    expect(names.length).toBeGreaterThan(100);
    expect(names.filter((name, index) => names.indexOf(name) !== index)).toEqual([]);
    const rows = [...(await read('docs/configuration.md')).matchAll(/^\| `([A-Z][A-Z0-9_]*)` /gm)].map(
      (match) => match[1],
    );
    // The docker compose block at the end of .env.example is compose's own, not a component's.
    expect(rows.sort()).toEqual(
      names
        .filter(
          (name) =>
            !['POSTGRES_PASSWORD', 'RABBITMQ_USER', 'RABBITMQ_PASSWORD', 'GRAFANA_ADMIN_PASSWORD'].includes(
              name,
            ),
        )
        .sort(),
    );
  });

  it('docs/configuration.md is as Prettier prints it', async () => {
    const path = join(root, 'docs/configuration.md');
    const options = { ...(await prettier.resolveConfig(path)), filepath: path };
    expect(await prettier.check(await read('docs/configuration.md'), options)).toBe(true);
  });
});
