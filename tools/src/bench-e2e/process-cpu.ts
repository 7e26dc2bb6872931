import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/**
 * Linux's clock ticks per second, the unit of CPU times in `/proc/<pid>/stat` (`getconf CLK_TCK`; 100 on
 * every common kernel, read once in case this one differs).
 */
const CLOCK_TICKS_PER_S = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface ProcStat {
  ppid: number;
  /** utime + stime of the process itself, in ms. */
  ownMs: number;
  /** cutime + cstime: what its children that already exited (and were reaped) used, in ms. */
  reapedChildrenMs: number;
}

/** `/proc/<pid>/stat`, or undefined when the process is gone (proc(5)). */
function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may contain spaces: fields are counted after it.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ticks = (index: number) => Number(fields[index - 3] ?? 0);
  const toMs = (value: number) => (value * 1000) / CLOCK_TICKS_PER_S;
  return {
    ppid: ticks(4),
    ownMs: toMs(ticks(14) + ticks(15)),
    reapedChildrenMs: toMs(ticks(16) + ticks(17)),
  };
}

/** Every process's parent, read once from /proc. */
function parentsOfAll(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (stat) parents.set(pid, stat.ppid);
  }
  return parents;
}

/** The pids whose parent is `pid`. */
export function childrenOf(pid: number, parents = parentsOfAll()): number[] {
  return [...parents].filter(([, ppid]) => ppid === pid).map(([child]) => child);
}

/**
 * CPU a process and all its descendants used since they started, in ms: its own time, the time of
 * descendants still running, and of those that exited (which the kernel adds to their parent's children
 * times once reaped). The difference of two readings is what the tree used in between, even if short-lived
 * children (PostgreSQL backends, say) came and went.
 */
export function treeCpuMs(pid: number, parents = parentsOfAll()): number {
  const stat = readStat(pid);
  if (!stat) return 0;
  let total = stat.ownMs + stat.reapedChildrenMs;
  for (const child of childrenOf(pid, parents)) total += treeCpuMs(child, parents);
  return total;
}

/** CPU of several groups of trees at once (a service's instances, say), summed per name; one scan of /proc. */
export function readTreesCpuMs(trees: ReadonlyMap<string, readonly number[]>): Map<string, number> {
  const parents = parentsOfAll();
  return new Map(
    [...trees].map(([name, pids]) => [name, pids.reduce((sum, pid) => sum + treeCpuMs(pid, parents), 0)]),
  );
}

/** The command line of a process, arguments joined by spaces ('' when gone). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/**
 * The oldest process whose executable name is `name` and whose parent is not also `name`: PostgreSQL's
 * postmaster (its backends are its children), RabbitMQ's `beam.smp`.
 */
function findRootProcess(name: string): number | undefined {
  const parents = parentsOfAll();
  const named = new Set(
    [...parents.keys()].filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name;
      } catch {
        return false;
      }
    }),
  );
  return [...named].find((pid) => !named.has(parents.get(pid) ?? 0));
}

/**
 * The process listening on 127.0.0.1:`port` (`ss -ltnp`), or else the root process named `name`: with
 * several PostgreSQL clusters or RabbitMQ nodes on the machine (a chaos run's, say), the name alone may
 * pick the wrong one. `ss` shows other users' processes only to root; undefined when neither finds one.
 */
export function findServerProcess(port: number, name: string): number | undefined {
  try {
    const listening = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const pid = /pid=(\d+)/.exec(listening)?.[1];
    if (pid !== undefined) return Number(pid);
  } catch {
    // No `ss` here: fall back to the name.
  }
  return findRootProcess(name);
}

/**
 * How many times a process's threads went to sleep and were woken (voluntary context switches, proc(5):
 * `voluntary_ctxt_switches` of each thread in /proc/<pid>/task), summed over the process and its live
 * descendants; 0 when gone. On a virtual machine each wake-up costs tens to hundreds of µs of CPU before
 * any work is done, so wake-ups per order explain much of the CPU per order at light load.
 */
export function treeWakeUps(pid: number, parents = parentsOfAll()): number {
  let total = 0;
  try {
    for (const thread of readdirSync(`/proc/${pid}/task`)) {
      try {
        const status = readFileSync(`/proc/${pid}/task/${thread}/status`, 'utf8');
        total += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      } catch {
        // The thread ended meanwhile.
      }
    }
  } catch {
    return 0;
  }
  for (const child of childrenOf(pid, parents)) total += treeWakeUps(child, parents);
  return total;
}

/** `treeWakeUps` of several groups of trees at once, summed per name; one scan of /proc. */
export function readTreesWakeUps(trees: ReadonlyMap<string, readonly number[]>): Map<string, number> {
  const parents = parentsOfAll();
  return new Map(
    [...trees].map(([name, pids]) => [name, pids.reduce((sum, pid) => sum + treeWakeUps(pid, parents), 0)]),
  );
}
