/**
 * `--compare <git-ref>` and `--target <git-ref>`: another version of the system, built in a git worktree of
 * its own under the system's temporary directory (`order-platform-<commit>`), kept between runs so that a
 * second comparison with the same commit starts at once.
 */
import { execFile } from 'node:child_process';
import { access, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** Written once the checkout is installed and built. */
const READY_MARKER = '.bench-baseline-ready';

/** A built checkout of a version of the system. */
export interface VersionCheckout {
  /** The commit it is, and its first 12 hex digits (what the reports call it). */
  commit: string;
  label: string;
  /** The worktree's root: its `tools/dist/supervisor/main.js` starts that version's system. */
  dir: string;
}

/**
 * Resolves `ref` in the repository at `repoDir`, then checks that commit out in a worktree of its own and
 * installs (`npm ci`) and builds (`tsc -b`) it, unless an earlier run already did.
 * @throws Error when `ref` names no commit, or installing or building fails (with the tool's output)
 */
export async function prepareCheckout(
  repoDir: string,
  ref: string,
  say: (line: string) => void,
): Promise<VersionCheckout> {
  const commit = (
    await run('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: repoDir })
  ).stdout.trim();
  const label = commit.slice(0, 12);
  const dir = join(tmpdir(), `order-platform-${label}`);
  const ready = await access(join(dir, READY_MARKER)).then(
    () => true,
    () => false,
  );
  if (ready) {
    say(`${ref} (${label}) already built in ${dir}`);
    return { commit, label, dir };
  }
  say(`building ${ref} (${label}) in ${dir}: git worktree, npm ci, tsc -b (a minute or two)`);
  // A worktree left half made by an interrupted run is removed first.
  await run('git', ['worktree', 'remove', '--force', dir], { cwd: repoDir }).catch(() => undefined);
  await run('git', ['worktree', 'prune'], { cwd: repoDir });
  await run('git', ['worktree', 'add', '--detach', dir, commit], { cwd: repoDir });
  const step = async (file: string, args: string[]) => {
    try {
      await run(file, args, { cwd: dir, maxBuffer: 64 * 1024 * 1024 });
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      throw new Error(
        `${file} ${args.join(' ')} failed in ${dir}:\n${stdout.slice(-2_000)}${stderr.slice(-2_000)}`,
      );
    }
  };
  await step('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error']);
  await step('npx', ['tsc', '-b']);
  await writeFile(join(dir, READY_MARKER), `${commit}\n`);
  return { commit, label, dir };
}
