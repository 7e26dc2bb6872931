import {
  FulfilmentEvents,
  InventoryEvents,
  OrderEvents,
  PaymentEvents,
  type Decider,
  type EventEnvelope,
  type SubscribedEvent,
} from '@platform/contracts';
import type { HistoryChange, SagaStep } from './order-history.js';
import type { CancellationReason, Order, OrderItem, PricingRejection } from './order.js';
import { orderCancelled, orderCompleted, orderCreated } from './order.events.js';

/** An event another service reports about an order (SPEC §2): what the order service consumes. */
export type ReportedEvent = SubscribedEvent<'order'>;

/** Everything that can happen to an order once it is placed. */
export type OrderInput =
  | { kind: 'price'; customerFullname: string; items: OrderItem[]; totalAmount: number }
  | { kind: 'reject'; reason: PricingRejection }
  | { kind: 'cancel_by_customer' }
  | { kind: 'expire' }
  | { kind: 'saga_event'; event: ReportedEvent };

/** What an input did: the log's and metrics' word for it. */
export type OrderOutcome =
  | 'priced'
  | 'completed'
  | 'cancelled'
  | 'after_final'
  /** Nothing to do: already priced, already final, or no longer PENDING. */
  | 'unchanged';

/** The integration event an order announces after a change. */
type Announcement = typeof OrderEvents.created | typeof OrderEvents.completed | typeof OrderEvents.cancelled;

/** The changes an input makes to an order, and what the order announces afterwards. */
export interface OrderDecision {
  outcome: OrderOutcome;
  changes: HistoryChange[];
  announce?: Announcement;
}

/** What each saga event means for a PENDING order. */
type SagaRule =
  { step: SagaStep; then: 'complete' } | { step: SagaStep; then: 'cancel'; reason: CancellationReason };

/**
 * What each event of the other services means for the order (SPEC §2), in one place. The order service
 * hears only the events that decide an order's fate; each brings the steps before it (`steps`: stock
 * reserved, paid, …), recorded first, each with the time it happened:
 * - the partner's acceptance completes the order (`order.completed` sells the stock, tells the customer);
 * - a step that failed for good cancels the order with its reason (`order.cancelled` starts compensation).
 */
const SAGA_RULES: { [T in ReportedEvent['type']]: SagaRule } = {
  [InventoryEvents.unavailable]: { step: 'out_of_stock', then: 'cancel', reason: 'out_of_stock' },
  [PaymentEvents.failed]: { step: 'payment_failed', then: 'cancel', reason: 'payment_failed' },
  [FulfilmentEvents.placed]: { step: 'fulfilment_placed', then: 'complete' },
  [FulfilmentEvents.failed]: { step: 'placement_failed', then: 'cancel', reason: 'placement_failed' },
};

/** The event types the order service handles: it starts only if they are its subscriptions. */
export const SAGA_EVENT_TYPES = Object.keys(SAGA_RULES) as ReportedEvent['type'][];

/** What a saga event reported itself, for an event of an earlier version that carried no `steps`. */
function reported(event: ReportedEvent): Record<string, unknown> {
  switch (event.type) {
    case FulfilmentEvents.placed:
      return { ...event.payload.placement };
    case InventoryEvents.unavailable:
      return { missing: event.payload.missing };
    case PaymentEvents.failed:
    case FulfilmentEvents.failed:
      return { reason: event.payload.reason };
  }
}

/**
 * The steps a saga event reports, oldest first, as history changes: its `steps` (each with the time it
 * happened), or else (an event of an earlier version) its own step alone, stamped when recorded.
 */
export function reportedSteps(event: ReportedEvent): HistoryChange[] {
  const { steps } = event.payload;
  if (steps && steps.length > 0) {
    return steps.map((s) => ({
      step: s.step,
      reportedAt: s.at,
      ...(s.data === undefined ? {} : { data: s.data }),
    }));
  }
  return [{ step: SAGA_RULES[event.type].step, data: reported(event) }];
}

const UNCHANGED: OrderDecision = { outcome: 'unchanged', changes: [] };
const cancel = (reason: CancellationReason): OrderDecision => ({
  outcome: 'cancelled',
  changes: [{ step: 'cancelled', reason }],
  announce: OrderEvents.cancelled,
});

/**
 * The order's state machine: what `input` does to `order`. Only a PENDING order changes state:
 * - pricing (`price` → `order.created`, or `reject` with its reason → `order.cancelled`) applies to an
 *   order not yet priced, once: a second verdict (an order leased twice) changes nothing;
 * - the customer (`cancel_by_customer`) and the saga deadline (`expire`, reason `timeout`) cancel it;
 * - the other services' events follow `SAGA_RULES`, their steps recorded first (`reportedSteps`).
 * An event about an order already final has its steps recorded as `after_final` and is acted on no
 * further: the service that reported it compensates by itself, on the `order.cancelled` it received.
 * Pure: no clock, no I/O.
 */
export function decide(order: Order, input: OrderInput): OrderDecision {
  const pending = order.status === 'PENDING';
  switch (input.kind) {
    case 'price':
      if (!pending || order.priced_at !== null) return UNCHANGED;
      return {
        outcome: 'priced',
        changes: [
          {
            step: 'priced',
            data: {
              customer_fullname: input.customerFullname,
              items: input.items,
              total_amount: input.totalAmount,
            },
          },
        ],
        announce: OrderEvents.created,
      };
    case 'reject':
      return pending && order.priced_at === null ? cancel(input.reason) : UNCHANGED;
    case 'cancel_by_customer':
      return pending ? cancel('customer_request') : UNCHANGED;
    case 'expire':
      return pending ? cancel('timeout') : UNCHANGED;
    case 'saga_event': {
      const rule = SAGA_RULES[input.event.type];
      const steps = reportedSteps(input.event);
      if (!pending) {
        // Stamped when recorded (a late report is a fact of the order's history now, not then).
        return {
          outcome: 'after_final',
          changes: steps.map((step) => {
            const { reportedAt: _when, ...late } = step as Extract<HistoryChange, { reportedAt?: string }>;
            return { ...late, after_final: true };
          }),
        };
      }
      if (rule.then === 'complete') {
        return {
          outcome: 'completed',
          changes: [...steps, { step: 'completed' }],
          announce: OrderEvents.completed,
        };
      }
      return { ...cancel(rule.reason), changes: [...steps, { step: 'cancelled', reason: rule.reason }] };
    }
  }
}

/**
 * How a change makes the order what it is (the order row is the fold of its history): `placed` makes it,
 * `priced` gives it a customer name, priced items and a total, `completed` and `cancelled` make it final;
 * every change counts in `version` and moves `updated_at` to its time. Pure.
 * @throws Error when the history does not start with `placed`, or `placed` comes again.
 */
export function evolve(order: Order | undefined, change: HistoryChange, at: Date, id?: string): Order {
  if (change.step === 'placed') {
    if (order) throw new Error(`order ${order.id} was placed twice`);
    if (id === undefined) throw new Error('evolve needs the order id to start an order');
    return {
      id,
      user_id: change.data.user_id,
      status: 'PENDING',
      reason: null,
      items: change.data.items,
      customer_fullname: null,
      total_amount: null,
      requested_total_amount: change.data.requested_total_amount,
      version: 1,
      priced_at: null,
      // Not a fact of the saga, so not in its history: the row keeps it (rebuilding leaves it alone).
      trace_context: null,
      created_at: at,
      updated_at: at,
    };
  }
  if (!order) throw new Error(`an order's history must start with placed, not ${change.step}`);
  const next: Order = { ...order, version: order.version + 1, updated_at: at };
  switch (change.step) {
    case 'priced':
      return {
        ...next,
        items: change.data.items,
        customer_fullname: change.data.customer_fullname,
        total_amount: change.data.total_amount,
        priced_at: at,
      };
    case 'completed':
      return { ...next, status: 'COMPLETED', reason: null };
    case 'cancelled':
      return { ...next, status: 'CANCELLED', reason: change.reason };
    default:
      return next;
  }
}

/**
 * An input as the order's decider takes it: what happened, and when it is recorded (`at`, the commit's
 * time, as `transition` has it), which stamps the changes it makes: the decider has no clock.
 */
export interface OrderCommand {
  input: OrderInput;
  at: Date;
}

/** A change as the order's history appends it: with its order, and when (`updated_at` after it). */
export type OrderChange = HistoryChange & { order_id: string; at: Date };

/** What the order's decider decides: `decide`'s decision, its changes stamped. */
export type OrderDecided = Omit<OrderDecision, 'changes'> & { changes: OrderChange[] };

/**
 * The order's rules as one decider (`Decider` of `@platform/contracts`), made of `decide` and `evolve`.
 * There is no order before `placed` (the intake appends it, not a decision), and an input about an order
 * that does not exist changes nothing (`decideOrderInputs` answers nothing for it). `transition` is the
 * same decision and fold, with the announcements built.
 */
export const orderDecider: Decider<Order | undefined, OrderCommand, OrderChange, OrderDecided> = {
  initial: undefined,
  decide: (order, { input, at }) => {
    if (!order) return { outcome: 'unchanged', changes: [] };
    const decision = decide(order, input);
    return {
      ...decision,
      changes: decision.changes.map((change) => ({ ...change, order_id: order.id, at })),
    };
  },
  evolve: (order, { order_id, at, ...change }) => evolve(order, change, at, order_id),
};

/** An order's transition: the decision, the order after it, and the integration events to publish. */
export interface OrderTransition {
  decision: OrderDecision;
  before: Order;
  after: Order;
  events: EventEnvelope[];
}

/**
 * Decides `input` for `order` and applies the changes in memory (`at` stands for the commit's time; the
 * database stamps the stored ones), with the event it announces, built from the order after the change.
 */
export function transition(order: Order, input: OrderInput, at = new Date()): OrderTransition {
  const decision = decide(order, input);
  const after = decision.changes.reduce<Order>((current, change) => evolve(current, change, at), order);
  const events: EventEnvelope[] = [];
  if (decision.announce === OrderEvents.created) events.push(orderCreated(after));
  if (decision.announce === OrderEvents.completed) events.push(orderCompleted(after));
  if (decision.announce === OrderEvents.cancelled) events.push(orderCancelled(after, after.reason ?? ''));
  return { decision, before: order, after, events };
}
