import { execFile } from 'node:child_process';
import { chown, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A PostgreSQL cluster of the chaos run's own, which it may crash without touching the machine's. */
export interface PostgresCluster {
  /** `postgres://postgres@127.0.0.1:<port>` (trust authentication), without a database. */
  readonly url: string;
  /** Stops the server in immediate mode (no checkpoint: crash recovery on the next start). */
  crash(): Promise<void>;
  /** Starts the server again on the same data directory and port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it (immediate mode) if it runs; never throws. */
  stop(): Promise<void>;
  /**
   * Sends `signal` to the server's every process: the postmaster and each backend and helper it forked.
   * SIGSTOP freezes it with every socket open (a server that hangs, not one that is down); SIGCONT thaws it.
   */
  signalAll(signal: 'SIGSTOP' | 'SIGCONT'): Promise<void>;
}

/** The processes whose parent is `pid`, from /proc (Linux). */
async function childrenOf(pid: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so the fields after the last ")".
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) children.push(Number(entry));
  }
  return children;
}

/**
 * `initdb` into `dir` and starts the cluster on `port`, listening on 127.0.0.1 only (see PostgreSQL's
 * "Server Setup and Operation": initdb, pg_ctl). PostgreSQL refuses to run as root: as root, every command
 * runs as the `postgres` user (`runuser`), which then owns `dir`. Throws when a command fails, with its
 * output.
 */
export async function createPostgresCluster(options: {
  binDir: string;
  dir: string;
  port: number;
}): Promise<PostgresCluster> {
  const { binDir, dir, port } = options;
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  await mkdir(dir, { recursive: true });
  if (asRoot) {
    const [uid, gid] = await Promise.all(
      ['-u', '-g'].map(async (flag) => Number((await run('id', [flag, 'postgres'])).stdout.trim())),
    );
    await chown(dir, uid ?? 0, gid ?? 0);
  }
  const pg = async (program: string, args: string[]): Promise<void> => {
    const [command, commandArgs] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(binDir, program), ...args]]
      : [join(binDir, program), args];
    try {
      await run(command, commandArgs, { timeout: 120_000 });
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`${program} ${args.join(' ')} failed: ${stderr ?? ''}${stdout ?? ''}`, {
        cause: error,
      });
    }
  };
  const serverOptions = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    // Five services with their pools, the chaos run's own clients, and room for reconnections.
    '-c max_connections=300',
  ].join(' ');

  await pg('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const start = () =>
    pg('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'postgresql.log'),
      '-w',
      '-t',
      '60',
      '-o',
      serverOptions,
      'start',
    ]);
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}`,
    crash: () => pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']),
    start,
    stop: () => pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined),
    async signalAll(signal) {
      // postmaster.pid's first line is the postmaster's pid (PostgreSQL "Database File Layout").
      const postmaster = Number((await readFile(join(data, 'postmaster.pid'), 'utf8')).split('\n')[0]);
      // The postmaster first on freezing (it forks no new backend meanwhile), last on thawing.
      const pids = [postmaster, ...(await childrenOf(postmaster))];
      for (const pid of signal === 'SIGSTOP' ? pids : pids.reverse()) {
        try {
          process.kill(pid, signal);
        } catch {
          // A backend that ended meanwhile.
        }
      }
    },
  };
}
