import { describe, expect, it } from 'vitest';
import { createAdmissionControl } from '../src/orders/admission-control.js';

const settle = () => new Promise((resolve) => setImmediate(resolve));
/** A count of `total` orders in flight, no customer near a cap. */
const inFlight = (total: number) => ({ total, byCustomer: new Map<string, number>() });

describe('admission control', () => {
  it('admits while the orders in flight are under the bound, counting what was placed since the last count', async () => {
    let inDatabase = 0;
    const admission = createAdmissionControl({
      maxInFlight: 10,
      countInFlight: async () => inFlight(inDatabase),
      refreshMs: { far: 60_000, near: 60_000 },
      retryAfterS: 1,
    });
    expect(admission.refusal()).toBeUndefined();
    await settle();
    admission.placed(9);
    expect(admission.refusal()).toBeUndefined();
    admission.placed(1);
    expect(admission.refusal()).toBe('orders_in_flight');
    inDatabase = 10;
    expect(admission.refusal()).toBe('orders_in_flight');
  });

  it('re-reads the count once it is older than refreshMs, and admits again when orders became final', async () => {
    let inDatabase = 12;
    let reads = 0;
    const admission = createAdmissionControl({
      maxInFlight: 10,
      countInFlight: async () => {
        reads += 1;
        return inFlight(inDatabase);
      },
      refreshMs: { far: 60_000, near: 20 },
      retryAfterS: 1,
    });
    admission.refusal();
    await settle();
    expect(admission.refusal()).toBe('orders_in_flight');
    expect(reads).toBe(1); // within refreshMs.near: no second read
    inDatabase = 3;
    await new Promise((resolve) => setTimeout(resolve, 30));
    admission.refusal(); // starts a read; answers from the old count meanwhile
    await settle();
    expect(admission.refusal()).toBeUndefined();
    expect(reads).toBe(2);
  });

  it('counts seldom while far from the bound, and often once within half of it', async () => {
    let inDatabase = 1;
    let reads = 0;
    const admission = createAdmissionControl({
      maxInFlight: 10,
      countInFlight: async () => {
        reads += 1;
        return inFlight(inDatabase);
      },
      refreshMs: { far: 60_000, near: 20 },
      retryAfterS: 1,
    });
    admission.refusal();
    await settle();
    await new Promise((resolve) => setTimeout(resolve, 30));
    admission.refusal();
    await settle();
    expect(reads).toBe(1); // 1 of 10 in flight: the minute-old rule applies
    admission.placed(4); // 5 of 10: near the bound now
    await new Promise((resolve) => setTimeout(resolve, 30));
    inDatabase = 5;
    admission.refusal();
    await settle();
    expect(reads).toBe(2);
  });

  it('refuses while the event loop is further behind than its bound, and takes orders again once it is not', async () => {
    const admission = createAdmissionControl({
      maxInFlight: 10,
      countInFlight: async () => inFlight(0),
      refreshMs: { far: 60_000, near: 60_000 },
      maxLoopDelayMs: 30,
      loopProbeMs: 0,
      retryAfterS: 1,
    });
    expect(admission.refusal()).toBeUndefined(); // sends a probe
    const busyUntil = performance.now() + 60;
    while (performance.now() < busyUntil) {
      // the loop is held: the probe waits behind this
    }
    await settle(); // the probe ran, 60 ms late
    expect(admission.refusal()).toBe('event_loop_delay');
    await settle(); // the next probe, on a free loop
    expect(admission.refusal()).toBeUndefined();
  });

  it('keeps answering from the last count when the database cannot be read', async () => {
    const failures: unknown[] = [];
    let fail = false;
    const admission = createAdmissionControl({
      maxInFlight: 5,
      countInFlight: async () => {
        if (fail) throw new Error('database down');
        return inFlight(7);
      },
      refreshMs: { far: 0, near: 0 },
      retryAfterS: 1,
      onCountFailed: (error) => failures.push(error),
    });
    admission.refusal();
    await settle();
    fail = true;
    expect(admission.refusal()).toBe('orders_in_flight');
    await settle();
    expect(admission.refusal()).toBe('orders_in_flight');
    expect(failures.length).toBeGreaterThan(0);
  });

  it("caps each customer's orders in flight: counted ones, and those admitted since, concurrent ones included", async () => {
    let asked = 0;
    let byCustomer = new Map([['busy', 3]]);
    const admission = createAdmissionControl({
      maxInFlight: 100,
      maxInFlightPerCustomer: 4,
      countInFlight: async (atLeast) => {
        asked = atLeast;
        return { total: 3, byCustomer };
      },
      refreshMs: { far: 0, near: 0 },
      retryAfterS: 1,
    });
    admission.refusal();
    await settle();
    expect(asked).toBe(2); // customers at half the cap or more are listed
    expect(admission.admitCustomer('busy')).toBe(true);
    expect(admission.admitCustomer('busy')).toBe(false);
    // Another customer is not affected; several of theirs at once pass only up to the cap.
    expect([1, 2, 3, 4, 5].map(() => admission.admitCustomer('quiet'))).toEqual([
      true,
      true,
      true,
      true,
      false,
    ]);
    // A new count that includes them (and shows some final) gives back what is no longer in flight.
    byCustomer = new Map([['busy', 2]]);
    admission.refusal();
    await settle();
    expect(admission.admitCustomer('busy')).toBe(true);
    expect(admission.admitCustomer('busy')).toBe(true);
    expect(admission.admitCustomer('busy')).toBe(false);
  });

  it('admits every customer when there is no per-customer cap', () => {
    const admission = createAdmissionControl({
      maxInFlight: 1,
      countInFlight: async () => inFlight(0),
      refreshMs: { far: 0, near: 0 },
      retryAfterS: 1,
    });
    expect(Array.from({ length: 10 }, () => admission.admitCustomer('anyone')).every(Boolean)).toBe(true);
  });
});
