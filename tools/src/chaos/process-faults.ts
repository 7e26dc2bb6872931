/**
 * The faults of the system's own processes: a service killed (the supervisor restarts it) and the
 * simulators frozen (every third party hangs at once). Each waits until the broken part is back, then
 * measures how long the system took to recover.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceName } from '../isolated-system.js';
import type { FaultRun, InjectedFault } from './faults.js';
import { recovery, sagaFlowing } from './recovery-probes.js';
import { metricValue, scrapeMetrics, timeUntil } from './system-probes.js';

/** `third-parties`: the simulators' process frozen with SIGSTOP for `freezeS`, longer than every client timeout. */
export async function freezeThirdParties({
  targets,
  settings,
  startedAt,
  timeoutMs,
}: FaultRun): Promise<InjectedFault> {
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
    kind: 'third-parties',
    description: `SIGSTOP every third party for ${settings.freezeS} s`,
    startedAt,
    endedAt,
    recoveries,
  };
}

/** A service name: kill -9 of that service's process, restarted by the supervisor. */
export async function killService(
  kind: ServiceName,
  { targets, startedAt, timeoutMs }: FaultRun,
): Promise<InjectedFault> {
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
