import { ConfigError } from '@platform/config';
import { SERVICE_NAMES, type ServiceName } from '../isolated-system.js';
import type { SupervisedChild } from '../supervisor/child-process.js';
import {
  crashPostgres,
  freezePostgres,
  freezeRabbitmq,
  killRabbitmq,
  killRabbitmqNode,
} from './dependency-faults.js';
import type { OpenLoopLoad } from './open-loop-load.js';
import type { PostgresCluster } from './postgres-cluster.js';
import { freezeThirdParties, killService } from './process-faults.js';
import type { RabbitmqNode } from './rabbitmq-node.js';

/**
 * What the chaos run can break: `rabbitmq` (kill -9 of every RabbitMQ node, started again after a while),
 * `rabbitmq-node` (kill -9 of one node of the cluster, the next one at each such fault, started again after
 * a while; the system should keep flowing on the others meanwhile), a service
 * name (kill -9 of its process, restarted by the supervisor), `postgresql` (stopped in immediate mode,
 * started again after a while), `third-parties` (the simulators' process frozen with SIGSTOP for
 * longer than every client timeout, then resumed), and `postgresql-freeze` and `rabbitmq-freeze` (every
 * process of the run's PostgreSQL, or its RabbitMQ node's VM, frozen with SIGSTOP: a dependency that hangs
 * with its sockets open, which only timeouts notice; issue 22).
 */
export const FAULT_KINDS = [
  'rabbitmq',
  'rabbitmq-node',
  ...SERVICE_NAMES,
  'postgresql',
  'third-parties',
  'postgresql-freeze',
  'rabbitmq-freeze',
] as const;
/** The faults of a run that does not name them: every kind but `rabbitmq-node` (the same as `rabbitmq` on one node). */
export const DEFAULT_FAULTS = FAULT_KINDS.filter((kind) => kind !== 'rabbitmq-node');
/** The faults of `--cluster` when not named: one node killed, and later another while the first is back. */
export const DEFAULT_CLUSTER_FAULTS: FaultKind[] = ['rabbitmq-node', 'rabbitmq-node'];
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Parses a comma-separated list of fault kinds (CHAOS_FAULTS); throws a ConfigError naming an unknown one. */
export function parseFaults(text: string): FaultKind[] {
  return text.split(',').map((part) => {
    const kind = part.trim();
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
      throw new ConfigError([`CHAOS_FAULTS: unknown fault "${kind}" (known: ${FAULT_KINDS.join(', ')})`]);
    }
    return kind as FaultKind;
  });
}

/** How long after a fault some part of the system worked again: ms, or null when it did not in time. */
export interface Recovery {
  what: string;
  ms: number | null;
}

/** A fault as it was injected: what, when (ms since the epoch), and how the system recovered. */
export interface InjectedFault {
  kind: FaultKind;
  description: string;
  startedAt: number;
  /** When the broken part was back (started again, restarted, resumed). */
  endedAt: number;
  recoveries: Recovery[];
}

/** What the faults act on and watch. */
export interface ChaosTargets {
  /** One node, or a cluster's. */
  rabbitmq: readonly RabbitmqNode[];
  postgres: PostgresCluster;
  processes: Record<ServiceName | 'simulators', SupervisedChild>;
  serviceUrls: Record<ServiceName, string>;
  load: OpenLoopLoad;
}

/** How long each fault lasts and how long a recovery may take, in s. */
export interface FaultSettings {
  rabbitmqDownS: number;
  postgresDownS: number;
  freezeS: number;
  /** How long PostgreSQL or RabbitMQ stays frozen in a `*-freeze` fault, in s. */
  dependencyFreezeS: number;
  recoveryTimeoutS: number;
}

/** What every kind of fault is given: the targets and settings, when it began, the recovery timeout in ms. */
export interface FaultRun {
  targets: ChaosTargets;
  settings: FaultSettings;
  startedAt: number;
  timeoutMs: number;
}

/**
 * Injects one fault, waits until the broken part is back, and measures how long the system took to recover.
 * `occurrence` counts the faults of this kind before this one (which node a `rabbitmq-node` fault kills).
 * The faults themselves: dependency-faults.ts (RabbitMQ, PostgreSQL) and process-faults.ts (services,
 * third parties).
 */
export async function injectFault(
  kind: FaultKind,
  targets: ChaosTargets,
  settings: FaultSettings,
  occurrence = 0,
): Promise<InjectedFault> {
  const run: FaultRun = {
    targets,
    settings,
    startedAt: Date.now(),
    timeoutMs: settings.recoveryTimeoutS * 1000,
  };
  switch (kind) {
    case 'rabbitmq-node':
      return killRabbitmqNode(run, occurrence);
    case 'rabbitmq':
      return killRabbitmq(run);
    case 'postgresql':
      return crashPostgres(run);
    case 'postgresql-freeze':
      return freezePostgres(run);
    case 'rabbitmq-freeze':
      return freezeRabbitmq(run);
    case 'third-parties':
      return freezeThirdParties(run);
    default:
      return killService(kind, run);
  }
}
