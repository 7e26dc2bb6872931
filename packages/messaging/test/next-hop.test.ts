import { describe, expect, it } from 'vitest';
import { InvalidEventError, nextHop, readEvent } from '../src/failure-routing.js';

const policy = { maxAttempts: 4, retryDelaysMs: [1000, 5000, 1000] };

describe('where a failed delivery goes next', () => {
  it('follows the configured schedule, in order, then dead-letters after the last attempt', () => {
    const hops = [1, 2, 3, 4].map((attempt) => nextHop({ ...policy, attempt, transient: false }));
    expect(hops).toEqual([
      { outcome: 'retried', attempt: 2, delayMs: 1000 },
      { outcome: 'retried', attempt: 3, delayMs: 5000 },
      { outcome: 'retried', attempt: 4, delayMs: 1000 },
      { outcome: 'dead_lettered', attempt: 4 },
    ]);
  });

  it('repeats the last delay when there are more attempts than delays', () => {
    expect(nextHop({ maxAttempts: 10, retryDelaysMs: [100, 300], attempt: 6, transient: false })).toEqual({
      outcome: 'retried',
      attempt: 7,
      delayMs: 300,
    });
  });

  it('defers a transient failure by the longest delay without using an attempt, even at the limit', () => {
    expect(nextHop({ ...policy, attempt: 4, transient: true })).toEqual({
      outcome: 'deferred',
      attempt: 4,
      delayMs: 5000,
    });
  });

  it('dead-letters a permanent failure on its first attempt, even when the database is also down', () => {
    expect(nextHop({ ...policy, attempt: 1, transient: true, permanent: true })).toEqual({
      outcome: 'dead_lettered',
      attempt: 1,
    });
  });
});

describe('reading an event at the consumer edge', () => {
  const needsId = (value: unknown) =>
    typeof value === 'object' && value !== null && 'id' in value ? [] : ['/id: required'];

  it('parses a JSON body that passes the check', () => {
    expect(readEvent(Buffer.from('{"id":"e1"}'), needsId)).toEqual({ id: 'e1' });
    expect(readEvent({ id: 'e2' }, needsId)).toEqual({ id: 'e2' });
  });

  it('refuses a body that is not JSON, or fails the check, with every problem', () => {
    expect(() => readEvent(Buffer.from('{"id":'), needsId)).toThrow(/invalid event: \/: not JSON/);
    const error = (() => {
      try {
        readEvent(Buffer.from('{"other":1}'), needsId);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(InvalidEventError);
    expect((error as InvalidEventError).problems).toEqual(['/id: required']);
    expect((error as InvalidEventError).message).toBe('invalid event: /id: required');
  });
});
