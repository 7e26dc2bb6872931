import { setPriority } from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import cluster, { type Worker } from 'node:cluster';
import { createInterface } from 'node:readline';

/** A child the supervisor keeps running: restarted after a crash, stopped on request. */
export interface SupervisedChild {
  readonly name: string;
  /** The running process's id; undefined between a crash and its restart. */
  pid(): number | undefined;
  /**
   * For a worker sharing its port: whether it listens yet (its own, not a sibling's, answer on the port).
   * Always true for a child of its own.
   */
  listening(): boolean;
  /** The running cluster worker of a child sharing its port; undefined otherwise. */
  worker(): Worker | undefined;
  /** Sends SIGTERM and resolves once it exited (SIGKILL after `graceMs`). */
  stop(graceMs: number): Promise<void>;
}

const FIRST_RESTART_DELAY_MS = 1_000;
const LONGEST_RESTART_DELAY_MS = 30_000;
// A child that ran this long before crashing is restarted quickly again, not after the grown delay.
const STABLE_AFTER_MS = 60_000;

/**
 * Starts `entry` with Node, forwards its lines to `output`, and restarts it with backoff if it dies.
 *
 * With `sharedPorts`, the child is a `node:cluster` worker of this process: instances of one service then
 * listen on the same port, this process accepting each connection and handing it to them in turn (the
 * cluster module's round-robin, Node's documented default outside Windows). Node 20 has no `reusePort`,
 * which would let separate processes share a port without it. A worker also exits when this process dies
 * (its IPC channel closes), so no instance outlives a killed supervisor.
 */
export function superviseChild(options: {
  name: string;
  entry: string;
  /** Options for Node itself, before the entry point. */
  nodeArgs?: readonly string[];
  env: NodeJS.ProcessEnv;
  sharedPorts?: boolean;
  /** Its nice value (setpriority(2)); unchanged when absent or when the host refuses it. */
  niceness?: number;
  output: (name: string, line: string) => void;
  report: (message: string) => void;
}): SupervisedChild {
  const { name } = options;
  let child: ChildProcess | undefined;
  let stopping = false;
  let restartDelay = FIRST_RESTART_DELAY_MS;
  let restartTimer: NodeJS.Timeout | undefined;
  let listening = options.sharedPorts !== true;
  let worker: Worker | undefined;

  function start(): void {
    const startedAt = Date.now();
    const running = options.sharedPorts === true ? forkWorker() : spawnChild();
    child = running;
    for (const stream of [running.stdout, running.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => options.output(name, line));
    }
    if (running.pid !== undefined) {
      options.report(`${name} started (pid ${running.pid})`);
      if (options.niceness !== undefined && options.niceness !== 0) {
        try {
          setPriority(running.pid, options.niceness);
        } catch {
          // Not allowed here (a container without the capability): it runs at the supervisor's priority.
        }
      }
    }
    running.on('exit', (code, signal) => {
      if (stopping) return;
      if (Date.now() - startedAt > STABLE_AFTER_MS) restartDelay = FIRST_RESTART_DELAY_MS;
      options.report(
        `${name} exited (${signal ?? `code ${code ?? '?'}`}); restarting in ${restartDelay / 1000} s`,
      );
      restartTimer = setTimeout(start, restartDelay);
      restartDelay = Math.min(restartDelay * 2, LONGEST_RESTART_DELAY_MS);
    });
  }
  function spawnChild(): ChildProcess {
    return spawn(process.execPath, [...(options.nodeArgs ?? []), options.entry], {
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  function forkWorker(): ChildProcess {
    // Settings apply to the next fork only as given here; `args: []` keeps the supervisor's own arguments
    // (--replicas …) from reaching the service.
    cluster.setupPrimary({
      exec: options.entry,
      args: [],
      execArgv: [...(options.nodeArgs ?? [])],
      silent: true,
    });
    // fork lays `env` over this process's environment (the supervisor's children get its whole
    // environment anyway).
    listening = false;
    const forked = cluster.fork(options.env);
    worker = forked;
    forked.once('listening', () => (listening = true));
    return forked.process;
  }

  start();

  return {
    name,
    pid: () => (child && child.exitCode === null && child.signalCode === null ? child.pid : undefined),
    listening: () => listening,
    worker: () => (worker?.isDead() === false ? worker : undefined),
    async stop(graceMs) {
      stopping = true;
      clearTimeout(restartTimer);
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => running.kill('SIGKILL'), graceMs);
        running.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        running.kill('SIGTERM');
      });
    },
  };
}
