/**
 * `npm run config-docs`: writes docs/configuration.md and .env.example from the configuration schemas the
 * components validate their environment with (components.ts lists them), and docs/lifecycle.md from the
 * order's lifecycle declaration (`@platform/contracts`), so that none can drift from what the code reads. `--check` writes nothing and exits 1 naming each stale file (tests/docs runs it).
 * `--out <dir>` reads and writes the two files under that directory instead of the repository's root.
 *
 * Exit codes: 0 done (or both files current), 1 a file is stale (`--check`), 2 a schema property has no
 * description: the documents would not say what it means, so nothing is written.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { COMPONENTS, ENV_HEADER, ENV_TRAILER, OVERVIEW, TITLE } from './components.js';
import { renderLifecycle } from './lifecycle.js';
import { renderEnvExample, renderMarkdown, undocumented } from './render.js';

const { values } = parseArgs({ options: { check: { type: 'boolean' }, out: { type: 'string' } } });
const root = values.out ?? fileURLToPath(new URL('../../../', import.meta.url));

const missing = COMPONENTS.flatMap((component) =>
  component.schemas.flatMap((schema) => undocumented(schema).map((name) => `${name} (${component.title})`)),
);
if (missing.length > 0) {
  process.stderr.write(
    `config-docs: schema properties without a description:\n${missing.map((m) => `  - ${m}\n`).join('')}`,
  );
  process.exit(2);
}

const files = {
  'docs/configuration.md': renderMarkdown({ title: TITLE, overview: OVERVIEW, components: COMPONENTS }),
  '.env.example': renderEnvExample({ header: ENV_HEADER, components: COMPONENTS, trailer: ENV_TRAILER }),
  'docs/lifecycle.md': renderLifecycle(),
};

if (values.check === true) {
  const stale: string[] = [];
  for (const [path, text] of Object.entries(files)) {
    const current = await readFile(join(root, path), 'utf8').catch(() => undefined);
    if (current !== text) stale.push(path);
  }
  if (stale.length > 0) {
    process.stderr.write(`config-docs: stale (run npm run config-docs): ${stale.join(', ')}\n`);
    process.exit(1);
  }
  process.stdout.write(`config-docs: ${Object.keys(files).join(', ')} are current\n`);
} else {
  for (const [path, text] of Object.entries(files)) await writeFile(join(root, path), text);
  process.stdout.write(`config-docs: wrote ${Object.keys(files).join(' and ')}\n`);
}
