/**
 * The faults of the run's own dependencies, RabbitMQ and PostgreSQL: killed (and started again after a
 * while) or frozen with SIGSTOP (a dependency that hangs with its sockets open). Each waits until the
 * broken part is back, then measures how long the system took to recover.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultRun, InjectedFault } from './faults.js';
import {
  intakeAccepting,
  outboxDrained,
  recovery,
  sagaFlowing,
  untilNotQuorumCritical,
} from './recovery-probes.js';

/**
 * `rabbitmq-node`: kill -9 of one node, the next one at each such fault (`occurrence` counts the earlier
 * ones), started again after `rabbitmqDownS`; on a cluster the saga must keep flowing on the others.
 */
export async function killRabbitmqNode(
  { targets, settings, timeoutMs }: FaultRun,
  occurrence: number,
): Promise<InjectedFault> {
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
    kind: 'rabbitmq-node',
    description: `kill -9 RabbitMQ node ${node.node}, down ${settings.rabbitmqDownS} s`,
    startedAt: killedAt,
    endedAt,
    recoveries,
  };
}

/** `rabbitmq`: kill -9 of every RabbitMQ node, started again after `rabbitmqDownS`. */
export async function killRabbitmq({
  targets,
  settings,
  startedAt,
  timeoutMs,
}: FaultRun): Promise<InjectedFault> {
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
    kind: 'rabbitmq',
    description: `kill -9 RabbitMQ${targets.rabbitmq.length > 1 ? ' (every node)' : ''}, down ${settings.rabbitmqDownS} s`,
    startedAt,
    endedAt,
    recoveries,
  };
}

/** `postgresql`: PostgreSQL stopped in immediate mode, started again after `postgresDownS`. */
export async function crashPostgres({
  targets,
  settings,
  startedAt,
  timeoutMs,
}: FaultRun): Promise<InjectedFault> {
  await targets.postgres.crash();
  await sleep(settings.postgresDownS * 1000);
  await targets.postgres.start();
  const endedAt = Date.now();
  const recoveries = await Promise.all([
    recovery('intake accepting', intakeAccepting(targets, endedAt, timeoutMs)),
    recovery('saga flowing', sagaFlowing(targets, endedAt, timeoutMs)),
  ]);
  return {
    kind: 'postgresql',
    description: `PostgreSQL stopped in immediate mode, down ${settings.postgresDownS} s`,
    startedAt,
    endedAt,
    recoveries,
  };
}

/** `postgresql-freeze`: every process of the run's PostgreSQL frozen for `dependencyFreezeS`. */
export async function freezePostgres({
  targets,
  settings,
  startedAt,
  timeoutMs,
}: FaultRun): Promise<InjectedFault> {
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
    kind: 'postgresql-freeze',
    description: `SIGSTOP PostgreSQL (every process) for ${settings.dependencyFreezeS} s`,
    startedAt,
    endedAt,
    recoveries,
  };
}

/** `rabbitmq-freeze`: every RabbitMQ node's VM frozen for `dependencyFreezeS`. */
export async function freezeRabbitmq({
  targets,
  settings,
  startedAt,
  timeoutMs,
}: FaultRun): Promise<InjectedFault> {
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
    kind: 'rabbitmq-freeze',
    description: `SIGSTOP RabbitMQ${targets.rabbitmq.length > 1 ? ' (every node)' : ''} for ${settings.dependencyFreezeS} s`,
    startedAt,
    endedAt,
    recoveries,
  };
}
