import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Issue 24: the saga runtime (consume, inbox, outbox, publish after commit, relay, lease workers, group
// commit, dead letters, the service host, PostgreSQL transactions) knows events, transactions and
// correlation ids, never the order domain: no service import, no domain word, so that another saga could
// use it and a reader sees where the runtime ends.
const root = new URL('../../', import.meta.url).pathname;
const RUNTIME = ['messaging', 'outbox', 'inbox', 'service-host', 'lease-worker', 'group-commit', 'postgres'];
const DOMAIN_WORD =
  /\b(orders?|inventory|payments?|fulfilment|notifications?|stock|refunds?|charges?|placements?|customers?)\b/i;
/** Lines allowed to hold one, each for a reason of its own. */
const ALLOWED = [
  /ORDER BY/, // SQL
  /default: 'orders',/, // the default exchange's name: a deployment setting, kept for running systems
];

const sources = RUNTIME.flatMap((name) =>
  readdirSync(join(root, 'packages', name, 'src'))
    .filter((file) => file.endsWith('.ts'))
    .map((file) => `packages/${name}/src/${file}`),
);

describe('the saga runtime', () => {
  it('imports no service', () => {
    for (const file of sources) {
      expect(readFileSync(join(root, file), 'utf8'), file).not.toMatch(/from '@services\//);
    }
  });

  it('holds no word of the order domain, in code or comments', () => {
    expect(sources.length).toBeGreaterThan(30);
    const found: string[] = [];
    for (const file of sources) {
      readFileSync(join(root, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (DOMAIN_WORD.test(line) && !ALLOWED.some((allowed) => allowed.test(line))) {
            found.push(`${file}:${i + 1}: ${line.trim()}`);
          }
        });
    }
    expect(found).toEqual([]);
  });
});
