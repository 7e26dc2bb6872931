import { execFile } from 'node:child_process';
import { chown, mkdir } from 'node:fs/promises';
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
  };
}
