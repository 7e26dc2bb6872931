import type { AsyncMessage } from 'rabbitmq-client';
import { ATTEMPT_HEADER } from './message-headers.js';

/** Where a failed delivery goes next: a delay queue (with the attempt it will be) or the dead-letter queue. */
export type NextHop =
  | { outcome: 'deferred' | 'retried'; attempt: number; delayMs: number }
  | { outcome: 'dead_lettered'; attempt: number; delayMs?: undefined };

/**
 * Where a failed delivery goes next. A `permanent` failure (the message is not an event this consumer
 * accepts: no retry can change that) goes to the dead-letter queue at once; a `transient` one (the
 * database is down: it says nothing about the event) waits the longest delay without using an attempt;
 * any other failure is retried on the schedule until `maxAttempts`.
 */
export function nextHop(failure: {
  attempt: number;
  transient: boolean;
  permanent?: boolean;
  maxAttempts: number;
  retryDelaysMs: readonly number[];
}): NextHop {
  const { attempt, retryDelaysMs } = failure;
  const delayBefore = (next: number) =>
    retryDelaysMs[Math.min(next - 2, retryDelaysMs.length - 1)] ?? Math.max(...retryDelaysMs);
  if (failure.permanent === true) return { outcome: 'dead_lettered', attempt };
  if (failure.transient) return { outcome: 'deferred', attempt, delayMs: Math.max(...retryDelaysMs) };
  if (attempt >= failure.maxAttempts) return { outcome: 'dead_lettered', attempt };
  return { outcome: 'retried', attempt: attempt + 1, delayMs: delayBefore(attempt + 1) };
}

/** The attempt number of a delivery (`x-attempt`; 1 when absent or nonsense). */
export function attemptOf(message: AsyncMessage): number {
  const value = Number(message.headers?.[ATTEMPT_HEADER] ?? 1);
  return Number.isInteger(value) && value >= 1 ? value : 1;
}

/**
 * A message that is not an event this consumer accepts, with every reason (`/payload/items: must
 * have at least 1 item`): dead-lettered on its first delivery, the reasons in its `x-last-error` header.
 */
export class InvalidEventError extends Error {
  readonly code = 'invalid_event';
  constructor(readonly problems: readonly string[]) {
    super(`invalid event: ${problems.join('; ')}`);
    this.name = 'InvalidEventError';
  }
}

/**
 * Reads a delivery's body as JSON and checks it with `validate` (which lists what is wrong, nothing when
 * it is right). Throws `InvalidEventError` for a body that is not JSON or fails the check.
 */
export function readEvent(body: unknown, validate: (value: unknown) => readonly string[]): unknown {
  let value: unknown = body;
  if (Buffer.isBuffer(body) || typeof body === 'string') {
    try {
      value = JSON.parse(String(body));
    } catch (error) {
      throw new InvalidEventError([`/: not JSON (${(error as Error).message})`]);
    }
  }
  const problems = validate(value);
  if (problems.length > 0) throw new InvalidEventError(problems);
  return value;
}
