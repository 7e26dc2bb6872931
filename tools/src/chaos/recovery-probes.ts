/**
 * How a fault measures the system's recovery: each probe polls one sign that some part works again (the
 * outboxes drained, intake accepting, the saga flowing, a node no longer critical to a quorum) and resolves
 * to the time it took, or null when the part did not recover in time.
 */
import { SERVICE_NAMES } from '../isolated-system.js';
import type { ChaosTargets, Recovery } from './faults.js';
import type { RabbitmqNode } from './rabbitmq-node.js';
import { getJson, metricValue, scrapeMetrics, timeUntil } from './system-probes.js';

// Normal operation keeps rows in the outbox for a fraction of a second (published after commit, deleted
// in batches every 250 ms): drained means no row older than this in any service.
const DRAINED_OLDEST_ROW_S = 1;
// Orders of this product take no slow or failing third-party path in the seed profile.
const PROBE_PRODUCT = 'classic-box';

/** Names a measured recovery: `what` recovered, and how long it took (null: not in time). */
export async function recovery(what: string, measured: Promise<number | null>): Promise<Recovery> {
  return { what, ms: await measured };
}

/** Time until `rabbitmq-queues check_if_node_is_quorum_critical` passes for `node`, or null. */
export function untilNotQuorumCritical(node: RabbitmqNode, timeoutMs: number): Promise<number | null> {
  return timeUntil(async () => !(await node.isQuorumCritical()), Date.now(), timeoutMs, 1_000);
}

/** Every service's outbox holds no row older than DRAINED_OLDEST_ROW_S. */
export function outboxDrained(
  targets: ChaosTargets,
  since: number,
  timeoutMs: number,
): Promise<number | null> {
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
export function intakeAccepting(
  targets: ChaosTargets,
  since: number,
  timeoutMs: number,
): Promise<number | null> {
  return timeUntil(
    async () => targets.load.accepted.some((order) => order.sentAt >= since),
    since,
    timeoutMs,
    50,
  );
}

/** The first PROBE_PRODUCT order sent after `since` and accepted is COMPLETED or CANCELLED. */
export function sagaFlowing(targets: ChaosTargets, since: number, timeoutMs: number): Promise<number | null> {
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
