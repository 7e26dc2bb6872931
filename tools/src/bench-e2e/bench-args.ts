/**
 * The command line of `npm run bench:e2e`: `--replicas` as npm start takes it, `--compare <git-ref>`,
 * `--target <git-ref>` and `--pairs N` (see main.ts for what each does).
 */
import { parseArgs } from 'node:util';
import { parseReplicas } from '../supervisor/replicas.js';

/** What the command line asked for. */
export interface BenchArgs {
  /** `--replicas` values, as npm start takes them. */
  replicas: string[];
  /** A version to measure side by side with the one measured as "this". */
  compare?: string;
  /** A version to measure as "this" instead of this checkout. */
  target?: string;
  /** How many times each step is measured for each system. */
  pairs: number;
}

/** Reads the process's command line; says what is wrong and exits 2 when it is not valid. */
export function parseBenchArgs(say: (line: string) => void): BenchArgs {
  try {
    const { values } = parseArgs({
      options: {
        replicas: { type: 'string', multiple: true },
        compare: { type: 'string' },
        target: { type: 'string' },
        pairs: { type: 'string' },
      },
    });
    const pairs = Number(values.pairs ?? 1);
    if (!Number.isInteger(pairs) || pairs < 1)
      throw new Error(`--pairs must be a whole number ≥ 1, not ${values.pairs}`);
    parseReplicas(values.replicas ?? []);
    return { replicas: values.replicas ?? [], compare: values.compare, target: values.target, pairs };
  } catch (error) {
    say((error as Error).message);
    process.exit(2);
  }
}
