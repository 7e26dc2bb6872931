import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '@platform/config';
import { SERVICE_NAMES, type ServiceName } from '../isolated-system.js';
import type { SupervisedChild } from '../supervisor/child-process.js';
import type { OpenLoopLoad } from './open-loop-load.js';
import type { PostgresCluster } from './postgres-cluster.js';
import type { RabbitmqNode } from './rabbitmq-node.js';
import { getJson, metricValue, scrapeMetrics, timeUntil } from './system-probes.js';

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

export interface FaultSettings {
  rabbitmqDownS: number;
  postgresDownS: number;
  freezeS: number;
  /** How long PostgreSQL or RabbitMQ stays frozen in a `*-freeze` fault, in s. */
  dependencyFreezeS: number;
  recoveryTimeoutS: number;
}

// Normal operation keeps rows in the outbox for a fraction of a second (published after commit, deleted
// in batches every 250 ms): drained means no row older than this in any service.
const DRAINED_OLDEST_ROW_S = 1;
// Orders of this product take no slow or failing third-party path in the seed profile.
const PROBE_PRODUCT = 'classic-box';

/**
 * Injects one fault, waits until the broken part is back, and measures how long the system took to recover.
 * `occurrence` counts the faults of this kind before this one (which node a `rabbitmq-node` fault kills).
 */
export async function injectFault(
  kind: FaultKind,
  targets: ChaosTargets,
  settings: FaultSettings,
  occurrence = 0,
): Promise<InjectedFault> {
  const timeoutMs = settings.recoveryTimeoutS * 1000;
  const startedAt = Date.now();
  switch (kind) {
    case 'rabbitmq-node': {
      const node = targets.rabbitmq[occurrence % targets.rabbitmq.length];
      if (!node) throw new Error('no RabbitMQ node');
      const clustered = targets.rabbitmq.length > 1;
      // A node started again a moment ago may not have caught up yet: killing another then would leave
      // some queue without a majority. Wait until this node is not critical to any queue's quorum.
      const safe = clustered
        ? [await recovery('replicas caught up before the kill', untilNotQuorumCritical(node, timeoutMs))]
        : [];
      const killedAt = Date.now();
      await node.kill();
      // On a cluster the others are a majority: the saga must go on while the node is down (a saga that
      // waits for the node's return did not fail over, and counts as not recovered).
      const flowing = recovery(
        clustered ? 'saga flowing, node down' : 'saga flowing',
        sagaFlowing(targets, killedAt, clustered ? settings.rabbitmqDownS * 1000 : timeoutMs),
      );
      await sleep(settings.rabbitmqDownS * 1000);
      await node.start();
      const endedAt = Date.now();
      const recoveries = [
        ...safe,
        await flowing,
        await recovery('outbox backlog empty', outboxDrained(targets, endedAt, timeoutMs)),
      ];
      return {
        kind,
        description: `kill -9 RabbitMQ node ${node.node}, down ${settings.rabbitmqDownS} s`,
        startedAt: killedAt,
        endedAt,
        recoveries,
      };
    }
    case 'rabbitmq': {
      await Promise.all(targets.rabbitmq.map((node) => node.kill()));
      await sleep(settings.rabbitmqDownS * 1000);
      // Together: a cluster node that was not the last to stop waits for its peers before it opens its port.
      await Promise.all(targets.rabbitmq.map((node) => node.start()));
      const endedAt = Date.now();
      const recoveries = await Promise.all([
        recovery('outbox backlog empty', outboxDrained(targets, endedAt, timeoutMs)),
        recovery('saga flowing', sagaFlowing(targets, endedAt, timeoutMs)),
      ]);
      return {
        kind,
        description: `kill -9 RabbitMQ${targets.rabbitmq.length > 1 ? ' (every node)' : ''}, down ${settings.rabbitmqDownS} s`,
        startedAt,
        endedAt,
        recoveries,
      };
    }
    case 'postgresql': {
      await targets.postgres.crash();
      await sleep(settings.postgresDownS * 1000);
      await targets.postgres.start();
      const endedAt = Date.now();
      const recoveries = await Promise.all([
        recovery('intake accepting', intakeAccepting(targets, endedAt, timeoutMs)),
        recovery('saga flowing', sagaFlowing(targets, endedAt, timeoutMs)),
      ]);
      return {
        kind,
        description: `PostgreSQL stopped in immediate mode, down ${settings.postgresDownS} s`,
        startedAt,
        endedAt,
        recoveries,
      };
    }
    case 'postgresql-freeze': {
      await targets.postgres.signalAll('SIGSTOP');
      try {
        await sleep(settings.dependencyFreezeS * 1000);
      } finally {
        await targets.postgres.signalAll('SIGCONT');
      }
      const endedAt = Date.now();
      const recoveries = await Promise.all([
        recovery('intake accepting', intakeAccepting(targets, endedAt, timeoutMs)),
        recovery('saga flowing', sagaFlowing(targets, endedAt, timeoutMs)),
      ]);
      return {
        kind,
        description: `SIGSTOP PostgreSQL (every process) for ${settings.dependencyFreezeS} s`,
        startedAt,
        endedAt,
        recoveries,
      };
    }
    case 'rabbitmq-freeze': {
      await Promise.all(targets.rabbitmq.map((node) => node.signal('SIGSTOP')));
      try {
        await sleep(settings.dependencyFreezeS * 1000);
      } finally {
        await Promise.all(targets.rabbitmq.map((node) => node.signal('SIGCONT')));
      }
      const endedAt = Date.now();
      const recoveries = await Promise.all([
        recovery('outbox backlog empty', outboxDrained(targets, endedAt, timeoutMs)),
        recovery('saga flowing', sagaFlowing(targets, endedAt, timeoutMs)),
      ]);
      return {
        kind,
        description: `SIGSTOP RabbitMQ${targets.rabbitmq.length > 1 ? ' (every node)' : ''} for ${settings.dependencyFreezeS} s`,
        startedAt,
        endedAt,
        recoveries,
      };
    }
    case 'third-parties': {
      const pid = targets.processes.simulators.pid();
      if (pid === undefined) throw new Error('the simulators are not running');
      process.kill(pid, 'SIGSTOP');
      try {
        await sleep(settings.freezeS * 1000);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      const endedAt = Date.now();
      const recoveries = [await recovery('saga flowing', sagaFlowing(targets, endedAt, timeoutMs))];
      return {
        kind,
        description: `SIGSTOP every third party for ${settings.freezeS} s`,
        startedAt,
        endedAt,
        recoveries,
      };
    }
    default: {
      const child = targets.processes[kind];
      const pid = child.pid();
      if (pid === undefined) throw new Error(`the ${kind} service is not running`);
      process.kill(pid, 'SIGKILL');
      const url = targets.serviceUrls[kind];
      const endedAt = startedAt;
      const recoveries = await Promise.all([
        recovery(
          'queue flowing',
          timeUntil(
            async () => {
              const current = child.pid();
              if (current === undefined || current === pid) return false;
              const metrics = await scrapeMetrics(url);
              // A new process counts from zero: one handled event is its consumer at work.
              return (
                metrics !== undefined &&
                metricValue(metrics, 'events_consumed_total', { labelFilter: 'outcome="handled"' }) > 0
              );
            },
            startedAt,
            timeoutMs,
          ),
        ),
        recovery('saga flowing', sagaFlowing(targets, startedAt, timeoutMs)),
      ]);
      return { kind, description: `kill -9 the ${kind} service`, startedAt, endedAt, recoveries };
    }
  }
}

/** Time until `rabbitmq-queues check_if_node_is_quorum_critical` passes for `node`, or null. */
function untilNotQuorumCritical(node: RabbitmqNode, timeoutMs: number): Promise<number | null> {
  return timeUntil(async () => !(await node.isQuorumCritical()), Date.now(), timeoutMs, 1_000);
}

async function recovery(what: string, measured: Promise<number | null>): Promise<Recovery> {
  return { what, ms: await measured };
}

/** Every service's outbox holds no row older than DRAINED_OLDEST_ROW_S. */
function outboxDrained(targets: ChaosTargets, since: number, timeoutMs: number): Promise<number | null> {
  return timeUntil(
    async () => {
      const scraped = await Promise.all(
        SERVICE_NAMES.map((service) => scrapeMetrics(targets.serviceUrls[service])),
      );
      return scraped.every(
        (metrics) =>
          metrics !== undefined &&
          metricValue(metrics, 'outbox_oldest_unpublished_age_seconds', { aggregate: 'max' }) <
            DRAINED_OLDEST_ROW_S,
      );
    },
    since,
    timeoutMs,
    250,
  );
}

/** An order sent after `since` was accepted. */
function intakeAccepting(targets: ChaosTargets, since: number, timeoutMs: number): Promise<number | null> {
  return timeUntil(
    async () => targets.load.accepted.some((order) => order.sentAt >= since),
    since,
    timeoutMs,
    50,
  );
}

/** The first PROBE_PRODUCT order sent after `since` and accepted is COMPLETED or CANCELLED. */
function sagaFlowing(targets: ChaosTargets, since: number, timeoutMs: number): Promise<number | null> {
  let probe: string | undefined;
  return timeUntil(
    async () => {
      probe ??= targets.load.accepted.find(
        (order) => order.sentAt >= since && order.productCode === PROBE_PRODUCT,
      )?.id;
      if (probe === undefined) return false;
      const order = await getJson(`${targets.serviceUrls.order}/orders/${probe}`);
      return order?.status === 200 && (order.body as { status: string }).status !== 'PENDING';
    },
    since,
    timeoutMs,
  );
}
