/**
 * The processes of one system under test as the benchmark sees them: which is which (each service, the
 * simulators, the console, the supervisor, RabbitMQ, PostgreSQL, the load generator), what CPU and wake-ups
 * each used over a step, and all of them paused (SIGSTOP) while another system is measured.
 */
import type { ChildProcess } from 'node:child_process';
import {
  childrenOf,
  commandLine,
  findServerProcess,
  readTreesCpuMs,
  readTreesWakeUps,
} from './process-cpu.js';

/** A reading begun when it was taken: `read` gives what each process used since, by name. */
export interface ProcessReading {
  read(): Record<string, number>;
}

/** The processes of a running system. */
export interface SystemProcesses {
  /** CPU used by each process from now on, in ms. */
  cpuReading(): ProcessReading;
  /** Wake-ups of each process from now on (PostgreSQL's whole tree: its backends too). */
  wakeUpReading(): ProcessReading;
  /** Stops every process of the system (SIGSTOP): it uses no CPU until `resume`. */
  pause(): void;
  resume(): void;
}

/** The processes of the system that `supervisor` runs, on the servers at `postgresUrl` and `rabbitmqUrl`. */
export function systemProcesses(options: {
  supervisor: ChildProcess;
  /** The system's load generator, once started. */
  loadGenerator: () => ChildProcess | undefined;
  postgresUrl: string;
  rabbitmqUrl: string;
}): SystemProcesses {
  const { supervisor, loadGenerator } = options;

  /**
   * The processes whose CPU is counted: each service (all its instances together), the simulators, the
   * console, the supervisor, RabbitMQ, PostgreSQL, and the load generator (reported, never counted).
   */
  function processTrees(): Map<string, number[]> {
    const trees = new Map<string, number[]>();
    const add = (name: string, pid: number) => trees.set(name, [...(trees.get(name) ?? []), pid]);
    for (const child of childrenOf(supervisor.pid ?? -1)) {
      const line = commandLine(child);
      const name =
        /services\/(\w+)\//.exec(line)?.[1] ?? (line.includes('simulators/') ? 'simulators' : undefined);
      if (name) add(name, child);
    }
    const postgres = findServerProcess(Number(new URL(options.postgresUrl).port || 5432), 'postgres');
    const rabbitmq = findServerProcess(Number(new URL(options.rabbitmqUrl).port || 5672), 'beam.smp');
    if (postgres) add('postgresql', postgres);
    if (rabbitmq) add('rabbitmq', rabbitmq);
    const generatorPid = loadGenerator()?.pid;
    if (generatorPid) add('load-generator', generatorPid);
    return trees;
  }

  function wakeUpReading(): ProcessReading {
    const trees = new Map([...processTrees()].filter(([name]) => name !== 'load-generator'));
    const before = readTreesWakeUps(trees);
    return {
      read: () =>
        Object.fromEntries(
          [...readTreesWakeUps(trees)].map(([name, n]) => [name, n - (before.get(name) ?? 0)]),
        ),
    };
  }

  function cpuReading(): ProcessReading {
    const trees = processTrees();
    const supervisorPid = supervisor.pid ?? -1;
    const snapshot = () => {
      const all = readTreesCpuMs(new Map([...trees, ['supervisor-tree', [supervisorPid]]]));
      const children = [...trees.keys()]
        // Every process the supervisor started (the console too): what is left is the supervisor's own.
        .filter((name) => !['postgresql', 'rabbitmq', 'load-generator'].includes(name))
        .reduce((sum, name) => sum + (all.get(name) ?? 0), 0);
      all.set('supervisor', (all.get('supervisor-tree') ?? 0) - children);
      all.delete('supervisor-tree');
      return all;
    };
    const before = snapshot();
    return {
      read() {
        const after = snapshot();
        return Object.fromEntries([...after].map(([name, ms]) => [name, ms - (before.get(name) ?? 0)]));
      },
    };
  }

  /** Every process of the system: the supervisor, whatever runs under it, and the load generator. */
  function processes(): number[] {
    const all: number[] = [];
    const visit = (pid: number) => {
      all.push(pid);
      for (const child of childrenOf(pid)) visit(child);
    };
    if (supervisor.pid) visit(supervisor.pid);
    const generatorPid = loadGenerator()?.pid;
    if (generatorPid) all.push(generatorPid);
    return all;
  }
  let paused: number[] = [];
  function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch {
        // Gone meanwhile.
      }
    }
  }
  function pause(): void {
    if (paused.length > 0) return;
    paused = processes();
    signalAll(paused, 'SIGSTOP');
  }
  function resume(): void {
    // Children first, the supervisor last: it must not find them stopped and think them hung.
    signalAll([...paused].reverse(), 'SIGCONT');
    paused = [];
  }

  return { cpuReading, wakeUpReading, pause, resume };
}
