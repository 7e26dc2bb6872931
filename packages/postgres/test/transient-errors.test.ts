import { describe, expect, it } from 'vitest';
import { isTransientDatabaseError } from '../src/errors.js';

// Which failures leave an event's attempt unused (the database, not the event, is the problem): a
// transient one waits and is tried again without counting towards the dead-letter queue.
describe('isTransientDatabaseError', () => {
  it.each([
    ['connection refused', { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, true],
    ['admin shutdown', { code: '57P01', message: 'terminating connection' }, true],
    ['too many connections', { code: '53300', message: 'sorry, too many clients' }, true],
    ['deadlock', { code: '40P01', message: 'deadlock detected' }, true],
    [
      'a statement cancelled by statement_timeout (a stalled server)',
      { code: '57014', message: 'canceling statement due to statement timeout' },
      true,
    ],
    ["the client's query_timeout (a server that hangs)", new Error('Query read timeout'), true],
    ['pool acquisition timed out', new Error('timeout exceeded when trying to connect'), true],
    ['a unique violation', { code: '23505', message: 'duplicate key value' }, false],
    ['a syntax error', { code: '42601', message: 'syntax error' }, false],
    ['not an error', 'boom', false],
  ])('%s → %s', (_what, error, transient) => {
    expect(isTransientDatabaseError(error)).toBe(transient);
  });
});
