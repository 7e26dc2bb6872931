import { Histogram } from 'prom-client';
import type { Registry } from '@platform/observability';
import type { OrderTransition } from './order-state-machine.js';

/** The steps whose time from placement is measured: where an order's time goes. */
const MEASURED_STEPS = new Set(['priced', 'stock_reserved', 'paid', 'fulfilment_placed']);

/** Records what committed transitions say about the saga's speed; call it after their commit. */
export interface OrderMetrics {
  observe(transitions: readonly OrderTransition[]): void;
}

/**
 * The saga's speed, for the on-call questions "how long do orders take to be final, by outcome and
 * reason" and "which step is slow": `order_duration_seconds` (placement to COMPLETED or CANCELLED; labels
 * `outcome`, `reason`: ten values at most) and `order_step_duration_seconds` (placement to each step).
 * Seconds, measured when the transition committed.
 */
export function createOrderMetrics(registry: Registry, now: () => number = Date.now): OrderMetrics {
  const buckets = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 180];
  const duration = new Histogram({
    name: 'order_duration_seconds',
    help: 'Time from placement to the final state, by outcome (completed, cancelled) and reason',
    labelNames: ['outcome', 'reason'] as const,
    buckets,
    registers: [registry],
  });
  const stepDuration = new Histogram({
    name: 'order_step_duration_seconds',
    help: 'Time from placement to each step of the saga (priced, stock_reserved, paid, fulfilment_placed)',
    labelNames: ['step'] as const,
    buckets,
    registers: [registry],
  });
  return {
    observe(transitions) {
      const at = now();
      for (const { decision, after } of transitions) {
        const seconds = Math.max(0, (at - after.created_at.getTime()) / 1000);
        for (const change of decision.changes) {
          if (MEASURED_STEPS.has(change.step) && !('after_final' in change && change.after_final === true)) {
            stepDuration.observe({ step: change.step }, seconds);
          }
        }
        if (decision.outcome === 'completed' || decision.outcome === 'cancelled') {
          duration.observe({ outcome: decision.outcome, reason: after.reason ?? 'none' }, seconds);
        }
      }
    },
  };
}
