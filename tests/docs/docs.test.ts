import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

// The front door and the documents behind it (issue 23): a short README, every link resolving inside the
// repository, every reference to the specification pointing at docs/spec.md, every benchmark file cited,
// every documented command one that exists and that something runs.
const root = new URL('../../', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const markdownFiles = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
/** Every file git tracks (or would: untracked, not ignored), as paths from the root. */
const repositoryFiles = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
  cwd: root,
  encoding: 'utf8',
})
  .split('\n')
  .filter((path) => path !== '' && existsSync(join(root, path)));
const textFiles = repositoryFiles.filter((path) =>
  /\.(ts|mjs|js|md|json|ya?ml|sql|eta|sh|example)$|(^|\/)(Dockerfile|run)$/.test(path),
);

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a Markdown file defines (headings outside code blocks; repeated ones numbered). */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let inCode = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) inCode = !inCode;
    const heading = !inCode && /^#{1,6} (.*)$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1] ?? '');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** The links of a Markdown file outside code blocks: `[label](target)`. */
function linksOf(text: string): string[] {
  const withoutCode = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...withoutCode.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] ?? '');
}

describe('the README', () => {
  it('is a front door: at most 250 lines, the two commands, one diagram, and a table of the docs', () => {
    const readme = read('README.md');
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
    expect(readme).toContain('npm start');
    expect(readme).toContain('npm test');
    expect(readme.match(/```mermaid/g)).toHaveLength(1);
    for (const file of markdownFiles.filter((path) => path.startsWith('docs/'))) {
      expect(readme, `README links ${file}`).toContain(`](${file})`);
    }
  });
});

describe('links', () => {
  it.each(markdownFiles)('%s: every relative link and anchor resolves inside the repository', (file) => {
    for (const link of linksOf(read(file))) {
      if (/^[a-z]+:/i.test(link)) continue; // http(s), mailto
      const [path = '', anchor] = link.split('#');
      const target = path === '' ? file : normalize(join(dirname(file), path));
      expect(target.startsWith('..'), `${file}: ${link} leaves the repository`).toBe(false);
      expect(existsSync(join(root, target)), `${file}: ${link}`).toBe(true);
      if (anchor !== undefined && target.endsWith('.md')) {
        expect(anchorsOf(read(target)).has(anchor), `${file}: ${link} (no such heading)`).toBe(true);
      }
    }
  });

  it('nothing in the repository points outside it', () => {
    for (const file of textFiles) {
      const text = read(file);
      expect(/\.\.\/shared|\/work\/shared|shared\/SPEC\.md/.test(text), file).toBe(false);
    }
  });
});

describe('references to the specification', () => {
  const spec = read('docs/spec.md');
  const sections = new Set([...spec.matchAll(/^#{2,3} §(\d+[a-z]?(?:\.\d+)?)\b/gm)].map((m) => m[1]));

  it('docs/spec.md restates every section the code and docs cite, and every seed they name', () => {
    expect(sections.size).toBeGreaterThan(15);
    const missing = new Map<string, string>();
    const seeds = new Set<string>();
    for (const file of textFiles) {
      const text = read(file);
      for (const match of text.matchAll(/SPEC §(\d+[a-z]?(?:\.\d+)?)/g)) {
        const section = match[1] ?? '';
        if (!sections.has(section)) missing.set(`§${section}`, file);
      }
      for (const match of text.matchAll(/seed (00\d)/gi)) seeds.add(match[1] ?? '');
    }
    expect(Object.fromEntries(missing)).toEqual({});
    for (const seed of seeds) expect(spec, `seed ${seed}`).toMatch(new RegExp(`seed ${seed}`, 'i'));
  });
});

describe('docs/bench', () => {
  it('keeps only the results a document cites', () => {
    const cited = markdownFiles.map(read).join('\n');
    for (const file of readdirSync(join(root, 'docs/bench'))) {
      expect(cited.includes(file), `docs/bench/${file} is cited`).toBe(true);
    }
  });
});

/**
 * Every script the documents name, and what runs it: a test (its file), or `.ci/run`. Adding a documented
 * command means saying here what proves it runs.
 */
const RUN_BY: Record<string, string> = {
  start: 'tests/supervisor/supervisor.test.ts',
  test: '.ci/run',
  lint: '.ci/run',
  typecheck: '.ci/run',
  demo: 'tests/supervisor/supervisor.test.ts',
  token: 'tools/test/token-command.test.ts',
  dlq: 'tests/saga/mixed-load.test.ts',
  orders: 'tests/saga/compensation.test.ts',
  chaos: '.ci/run',
  'bench:e2e': 'tools/test/benchmarks.test.ts',
  'bench:queues': 'tools/test/benchmarks.test.ts',
  'bench:intake': 'tools/test/benchmarks.test.ts',
  'bench:profiles': 'tools/test/benchmarks.test.ts',
  simulators: 'tests/supervisor/supervisor.test.ts',
  asyncapi: 'tests/contracts/asyncapi.test.ts',
  'config-docs': 'tests/docs/configuration.test.ts',
  'k8s:dev-secrets': 'tests/deploy/k8s.test.ts',
};

describe('documented commands', () => {
  it('every `npm run` or `npm` command the documents name exists, and a test or CI runs it', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    const named = new Set<string>();
    for (const file of markdownFiles) {
      for (const match of read(file).matchAll(/npm (?:run(?: -s)? )?([a-z][a-z0-9:-]*)/g)) {
        const name = match[1] ?? '';
        if (['ci', 'install', 'run'].includes(name)) continue;
        named.add(name);
      }
    }
    for (const name of named) {
      expect(scripts[name], `npm run ${name} exists`).toBeDefined();
      const runner = RUN_BY[name];
      expect(runner, `something runs npm run ${name}`).toBeDefined();
      expect(read(runner ?? ''), `${runner} runs ${name}`).toContain(name);
    }
  });
});
