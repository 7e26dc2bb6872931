import type { Decider, OrderSnapshot } from '@platform/contracts';

/**
 * Where an order's reservation stands; `cancelled` is a tombstone: the cancellation came before
 * `order.created`, which then reserves nothing.
 */
export type ReservationStatus = 'reserved' | 'rejected' | 'released' | 'sold' | 'cancelled';

/** A product and how many of it an order wants. */
export interface ReservedItem {
  product_code: string;
  quantity: number;
}

/** A product's counters. */
export interface StockCounters {
  available: number;
  reserved: number;
  sold: number;
}

/**
 * What each movement does to a product's counters. Every one moves quantity between counters and never
 * creates or destroys it: available + reserved + sold stays the initial stock (SPEC §4.4).
 */
export const STOCK_MOVEMENTS = {
  reserve: { available: -1, reserved: 1, sold: 0 },
  release: { available: 1, reserved: -1, sold: 0 },
  sell: { available: 0, reserved: -1, sold: 1 },
} as const satisfies Record<string, StockCounters>;

export type StockMovement = keyof typeof STOCK_MOVEMENTS;

/** What inventory decided for an order, one per order. */
export interface Reservation {
  status: ReservationStatus;
  items: ReservedItem[];
}

/** What an order's event did to inventory; expected outcomes are values, not errors. */
export type ReservationOutcome =
  'reserved' | 'out_of_stock' | 'released' | 'sold' | 'cancelled_before_reservation' | 'nothing_to_do';

/** A product the order wants more of than is available. */
export interface Shortage {
  product_code: string;
  requested: number;
  available: number;
}

/**
 * What one event decides for an order: the outcome, the order's reservation afterwards (when it changed),
 * the stock it moves, and what is missing when it could not reserve.
 */
export interface StockDecision {
  outcome: ReservationOutcome;
  reservation?: Reservation;
  movement?: { kind: StockMovement; items: ReservedItem[] };
  missing?: Shortage[];
}

/** Quantities summed per product, in product order: one line per product whatever the order repeated. */
export function wantedItems(order: OrderSnapshot): ReservedItem[] {
  const wanted = new Map<string, number>();
  for (const item of order.items) {
    wanted.set(item.product_code, (wanted.get(item.product_code) ?? 0) + item.quantity);
  }
  return [...wanted]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([product_code, quantity]) => ({ product_code, quantity }));
}

/** The items that cannot be reserved from `available` (a product unknown to inventory has none). */
export function shortages(
  items: readonly ReservedItem[],
  available: ReadonlyMap<string, number>,
): Shortage[] {
  return items
    .map((item) => ({ ...item, available: available.get(item.product_code) ?? 0 }))
    .filter((item) => item.available < item.quantity)
    .map((item) => ({
      product_code: item.product_code,
      requested: item.quantity,
      available: item.available,
    }));
}

/**
 * order.created: every item reserved, or none when one is short (SPEC §2). An order that already has a
 * reservation row (a duplicate, or a cancellation that came first and left its mark) is left alone.
 */
export function reserveStock(
  order: OrderSnapshot,
  reservation: Reservation | undefined,
  available: ReadonlyMap<string, number>,
): StockDecision {
  if (reservation) return { outcome: 'nothing_to_do' };
  const items = wantedItems(order);
  const missing = shortages(items, available);
  if (missing.length > 0)
    return { outcome: 'out_of_stock', reservation: { status: 'rejected', items }, missing };
  return {
    outcome: 'reserved',
    reservation: { status: 'reserved', items },
    movement: { kind: 'reserve', items },
  };
}

/**
 * order.cancelled (compensation): a reservation goes back to available. A cancellation that overtook
 * order.created leaves a `cancelled` mark, so that order.created then reserves nothing.
 */
export function releaseStock(order: OrderSnapshot, reservation: Reservation | undefined): StockDecision {
  if (!reservation) {
    return {
      outcome: 'cancelled_before_reservation',
      reservation: { status: 'cancelled', items: wantedItems(order) },
    };
  }
  if (reservation.status !== 'reserved') return { outcome: 'nothing_to_do' };
  return {
    outcome: 'released',
    reservation: { ...reservation, status: 'released' },
    movement: { kind: 'release', items: reservation.items },
  };
}

/** order.completed: the reservation becomes sold. */
export function sellStock(_order: OrderSnapshot, reservation: Reservation | undefined): StockDecision {
  if (reservation?.status !== 'reserved') return { outcome: 'nothing_to_do' };
  return {
    outcome: 'sold',
    reservation: { ...reservation, status: 'sold' },
    movement: { kind: 'sell', items: reservation.items },
  };
}

/**
 * Applies a movement to counters held in memory (the batch's running levels, so that the next decision of
 * the batch sees what this one took) and to the per-product change to write back.
 */
export function applyMovement(
  levels: Map<string, StockCounters>,
  changes: Map<string, StockCounters>,
  movement: { kind: StockMovement; items: readonly ReservedItem[] },
): void {
  const sign = STOCK_MOVEMENTS[movement.kind];
  for (const { product_code, quantity } of movement.items) {
    for (const counters of [levels, changes]) {
      const current = counters.get(product_code) ?? { available: 0, reserved: 0, sold: 0 };
      counters.set(product_code, {
        available: current.available + sign.available * quantity,
        reserved: current.reserved + sign.reserved * quantity,
        sold: current.sold + sign.sold * quantity,
      });
    }
  }
}

/**
 * What one order's stock decision reads and changes: its reservation (none before its first event) and
 * the counters of the products it names.
 */
export interface OrderStock {
  reservation: Reservation | undefined;
  levels: ReadonlyMap<string, StockCounters>;
}

/** An order's event as inventory acts on it: created reserves, cancelled releases, completed sells. */
export type StockInput = { kind: 'reserve' | 'release' | 'sell'; order: OrderSnapshot };

/** A change of an order's stock: its reservation written, or quantities moved between counters. */
export type StockChange =
  | { kind: 'reservation'; reservation: Reservation }
  | { kind: 'movement'; movement: StockMovement; items: ReservedItem[] };

/** What the stock decider decides: the outcome, the changes, and what is missing when it cannot reserve. */
export interface StockDecided {
  outcome: ReservationOutcome;
  changes: StockChange[];
  missing?: Shortage[];
}

/** Each input's rule, given what it reads (order.created: the quantities available). */
const RULES: Record<StockInput['kind'], (order: OrderSnapshot, state: OrderStock) => StockDecision> = {
  reserve: (order, { reservation, levels }) =>
    reserveStock(order, reservation, new Map([...levels].map(([code, level]) => [code, level.available]))),
  release: (order, { reservation }) => releaseStock(order, reservation),
  sell: (order, { reservation }) => sellStock(order, reservation),
};

/**
 * The stock rules as one decider (`Decider` of `@platform/contracts`), made of `reserveStock`,
 * `releaseStock` and `sellStock`: the reservation is written before the stock moves. `evolve` is what the
 * repositories store: a new reservation row as decided, an existing one with its new status (the upsert
 * keeps its items), and counters moved as `applyMovement` moves them.
 */
export const stockDecider: Decider<OrderStock, StockInput, StockChange, StockDecided> = {
  // A function: each order's state gets a Map of its own.
  initial: () => ({ reservation: undefined, levels: new Map() }),
  decide: (state, { kind, order }) => {
    const { outcome, reservation, movement, missing } = RULES[kind](order, state);
    const changes: StockChange[] = [];
    if (reservation) changes.push({ kind: 'reservation', reservation });
    if (movement) changes.push({ kind: 'movement', movement: movement.kind, items: movement.items });
    return { outcome, changes, ...(missing ? { missing } : {}) };
  },
  evolve: (state, change) => {
    if (change.kind === 'reservation') {
      const { reservation } = change;
      return {
        ...state,
        reservation: state.reservation ? { ...state.reservation, status: reservation.status } : reservation,
      };
    }
    const levels = new Map(state.levels);
    applyMovement(levels, new Map(), { kind: change.movement, items: change.items });
    return { ...state, levels };
  },
};
