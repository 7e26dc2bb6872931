/**
 * An order's lifecycle in one place (issue 24): its states, every way it moves between them, and every
 * deadline and retry budget that bounds a step on the way (SPEC §2, §4.2). The services take their
 * defaults from here (each can still be set by its environment variable, named beside it), the order's
 * state machine is tested against `ORDER_TRANSITIONS`, and the diagram in docs/architecture.md is drawn
 * from it (`npm run config-docs`; a test fails when it is stale).
 */

/** The states of an order: PENDING until one final state, never left. */
export const ORDER_STATES = ['PENDING', 'COMPLETED', 'CANCELLED'] as const;

/** Why an order was cancelled (SPEC §2). */
export const CANCELLATION_REASONS = [
  'user_not_found',
  'product_not_found',
  'dependency_unavailable',
  'total_mismatch',
  'out_of_stock',
  'payment_failed',
  'placement_failed',
  'timeout',
  'customer_request',
] as const;

/** A move of the order's state machine: from a state, on what, to a state (with the reason, cancelled). */
export interface OrderTransition {
  from: (typeof ORDER_STATES)[number];
  to: (typeof ORDER_STATES)[number];
  /** What makes it: a saga event's type, or a step of the order service's own. */
  on: string;
  /** The cancellation's reason(s), for a move to CANCELLED. */
  reasons?: readonly (typeof CANCELLATION_REASONS)[number][];
}

/**
 * Every move an order makes (SPEC §2). A final order takes no more: what arrives after is recorded in its
 * history (`after_final`), and a cancellation's compensation (stock released, charge refunded) follows
 * `order.cancelled`.
 */
export const ORDER_TRANSITIONS: readonly OrderTransition[] = [
  { from: 'PENDING', to: 'PENDING', on: 'priced' },
  {
    from: 'PENDING',
    to: 'CANCELLED',
    on: 'pricing refused',
    reasons: ['user_not_found', 'product_not_found', 'total_mismatch'],
  },
  { from: 'PENDING', to: 'CANCELLED', on: 'enrichment deadline', reasons: ['dependency_unavailable'] },
  { from: 'PENDING', to: 'CANCELLED', on: 'inventory.unavailable', reasons: ['out_of_stock'] },
  { from: 'PENDING', to: 'CANCELLED', on: 'payment.failed', reasons: ['payment_failed'] },
  { from: 'PENDING', to: 'CANCELLED', on: 'fulfilment.failed', reasons: ['placement_failed'] },
  { from: 'PENDING', to: 'CANCELLED', on: 'cancelled by the customer', reasons: ['customer_request'] },
  { from: 'PENDING', to: 'CANCELLED', on: 'saga deadline', reasons: ['timeout'] },
  { from: 'PENDING', to: 'COMPLETED', on: 'fulfilment.placed' },
];

/**
 * What bounds each step, in ms and attempts: the defaults of the variables named beside each. Together
 * they keep an order's fate within the saga deadline (SPEC §4.2): pricing gives up well before it, and the
 * placement deadline runs from payment.
 */
export const STEP_BOUNDS = {
  /** Pricing from the user and product services (ENRICHMENT_*). */
  enrichment: { deadlineMs: 30_000, callTimeoutMs: 2_000, retryBaseMs: 200, retryMaxMs: 5_000 },
  /** Charging at the gateway (PAYMENT_*): 1 + chargeRetries attempts; a refund is retried until done. */
  payment: { callTimeoutMs: 2_000, chargeRetries: 3, retryBaseMs: 200, retryMaxMs: 30_000 },
  /** Placing with the partner (FULFILMENT_*), from `payment.processed`. */
  placement: { deadlineMs: 60_000, callTimeoutMs: 3_000, retryBaseMs: 250, retryMaxMs: 5_000 },
  /** The whole saga (SAGA_DEADLINE_MS): a PENDING order this old is cancelled with reason `timeout`. */
  saga: { deadlineMs: 120_000 },
  /** An event a consumer fails to handle (CONSUMER_*): delays before attempt 2, 3, … (the last repeats). */
  delivery: { maxAttempts: 5, retryDelaysMs: [1_000, 5_000, 15_000] },
} as const;

/**
 * The lifecycle as a Mermaid state diagram: the states, each move labelled with what makes it (and the
 * reasons of a cancellation), and the bounds as notes.
 */
export function lifecycleDiagram(): string {
  const label = (transition: OrderTransition) =>
    transition.reasons ? `${transition.on} (${transition.reasons.join(', ')})` : transition.on;
  const bounds = STEP_BOUNDS;
  return [
    'stateDiagram-v2',
    '  [*] --> PENDING: POST /orders (201)',
    ...ORDER_TRANSITIONS.map((t) => `  ${t.from} --> ${t.to}: ${label(t)}`),
    '  COMPLETED --> [*]',
    '  CANCELLED --> [*]',
    `  note right of PENDING`,
    `    pricing within ${bounds.enrichment.deadlineMs / 1000} s`,
    `    charge: ${1 + bounds.payment.chargeRetries} attempts`,
    `    placement within ${bounds.placement.deadlineMs / 1000} s of payment`,
    `    saga deadline ${bounds.saga.deadlineMs / 1000} s`,
    '  end note',
  ].join('\n');
}
