import { describe, expect, it } from 'vitest';
import { createAdmissionControl } from '../src/orders/admission-control.js';

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('admission control', () => {
  it('admits while the orders in flight are under the bound, counting what was placed since the last count', async () => {
    let inDatabase = 0;
    const admission = createAdmissionControl({
      maxInFlight: 10,
      countInFlight: async () => inDatabase,
      refreshMs: 60_000,
      retryAfterS: 1,
    });
    expect(admission.admits()).toBe(true);
    await settle();
    admission.placed(9);
    expect(admission.admits()).toBe(true);
    admission.placed(1);
    expect(admission.admits()).toBe(false);
    inDatabase = 10;
    expect(admission.admits()).toBe(false);
  });

  it('re-reads the count once it is older than refreshMs, and admits again when orders became final', async () => {
    let inDatabase = 12;
    let reads = 0;
    const admission = createAdmissionControl({
      maxInFlight: 10,
      countInFlight: async () => {
        reads += 1;
        return inDatabase;
      },
      refreshMs: 20,
      retryAfterS: 1,
    });
    admission.admits();
    await settle();
    expect(admission.admits()).toBe(false);
    expect(reads).toBe(1); // within refreshMs: no second read
    inDatabase = 3;
    await new Promise((resolve) => setTimeout(resolve, 30));
    admission.admits(); // starts a read; answers from the old count meanwhile
    await settle();
    expect(admission.admits()).toBe(true);
    expect(reads).toBe(2);
  });

  it('keeps answering from the last count when the database cannot be read', async () => {
    const failures: unknown[] = [];
    let fail = false;
    const admission = createAdmissionControl({
      maxInFlight: 5,
      countInFlight: async () => {
        if (fail) throw new Error('database down');
        return 7;
      },
      refreshMs: 0,
      retryAfterS: 1,
      onCountFailed: (error) => failures.push(error),
    });
    admission.admits();
    await settle();
    fail = true;
    expect(admission.admits()).toBe(false);
    await settle();
    expect(admission.admits()).toBe(false);
    expect(failures.length).toBeGreaterThan(0);
  });
});
