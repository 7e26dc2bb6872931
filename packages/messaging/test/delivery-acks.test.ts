import { describe, expect, it } from 'vitest';
import { DeliveryAcks } from '../src/delivery-acks.js';

describe('DeliveryAcks', () => {
  it('acknowledges up to the last delivery of a contiguous finished prefix', () => {
    const acks = new DeliveryAcks();
    for (let tag = 1; tag <= 5; tag += 1) acks.delivered(tag);
    expect(acks.finished(1)).toBe(1);
    expect(acks.finished(2)).toBe(2);
    expect(acks.size).toBe(3);
  });

  it('holds back deliveries finished after one still being handled, then takes them all at once', () => {
    const acks = new DeliveryAcks();
    for (let tag = 1; tag <= 6; tag += 1) acks.delivered(tag);
    // A later batch (4-6) finishes before the earlier one (1-3): nothing may be acknowledged yet.
    expect(acks.finished(4)).toBeUndefined();
    expect(acks.finished(5)).toBeUndefined();
    expect(acks.finished(6)).toBeUndefined();
    expect(acks.finished(2)).toBeUndefined();
    expect(acks.finished(1)).toBe(2);
    expect(acks.finished(3)).toBe(6);
    expect(acks.size).toBe(0);
  });

  it('moves past a delivery handed back to the broker without ever acknowledging its tag', () => {
    const acks = new DeliveryAcks();
    for (let tag = 1; tag <= 3; tag += 1) acks.delivered(tag);
    expect(acks.finished(1)).toBe(1);
    expect(acks.finished(3, true)).toBeUndefined();
    // 2 finishes: the prefix now covers 2 and the nacked 3; the ack goes up to 2 only.
    expect(acks.finished(2)).toBe(2);
    expect(acks.size).toBe(0);
  });

  it('keeps working across many deliveries (the acknowledged prefix is dropped as it grows)', () => {
    const acks = new DeliveryAcks();
    let last: number | undefined;
    for (let tag = 1; tag <= 5_000; tag += 1) {
      acks.delivered(tag);
      last = acks.finished(tag);
    }
    expect(last).toBe(5_000);
    expect(acks.size).toBe(0);
  });
});
