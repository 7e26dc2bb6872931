import type { Context } from '@opentelemetry/api';
import type { EventEnvelope } from '@platform/contracts';
import type { Logger, Registry } from '@platform/observability';
import type { Broker } from './broker.js';

// What a consumer is given and gives back: the shapes `startConsumer` (consumer.ts) works with.

/** An event taken from the queue (it passed the consumer's `validate`), with what handling it needs. */
export interface ConsumedEvent<TEvent extends EventEnvelope = EventEnvelope> {
  envelope: TEvent;
  /** 1 on the first delivery, growing with each delayed retry. */
  attempt: number;
  /** Stamps every line with the event's ids (correlation id, event id and type, attempt; trace and span). */
  logger: Logger;
  /**
   * The context of the event's processing span, in the trace of the saga instance it is about: what the handler
   * hands on to the outbox rows and the work it creates for this event (a batch runs in a span of its own).
   */
  traceContext: Context;
}

/** How handling one event ended: done (acknowledged), or failed (retried after a delay, or dead-lettered). */
export type EventResult = { ok: true } | { ok: false; error: unknown };

/**
 * Handles the events that were ready together, as they were delivered, and gives one result per event in
 * the same sequence. A failed result sends only that event back for a delayed retry; a throw fails them all.
 */
export type BatchHandler<TEvent extends EventEnvelope = EventEnvelope> = (
  events: readonly ConsumedEvent<TEvent>[],
) => Promise<EventResult[]>;

/** A service's subscription to the exchange, and how it copes with failures. */
export interface ConsumerOptions<TEvent extends EventEnvelope = EventEnvelope> {
  broker: Broker;
  exchange: string;
  service: string;
  bindingKeys: readonly string[];
  /**
   * Keys an earlier version bound the queue with that it must no longer receive: unbound at every setup
   * (unbinding a binding that does not exist is no error).
   */
  retiredBindingKeys?: readonly string[];
  /**
   * What is wrong with a message body (parsed JSON) as a `TEvent`, one line per problem; empty when it is
   * one. A message with a problem is dead-lettered on its first delivery, the problems in its
   * `x-last-error` header: no handler sees it, and no retry could change it.
   */
  validate: (value: unknown) => readonly string[];
  handle: BatchHandler<TEvent>;
  /**
   * Deliveries the broker sends ahead (the channel's prefetch). More than a batch, so that the next batch
   * is already here when one ends.
   */
  prefetch: number;
  /** Most events one batch takes: the busier the queue, the bigger (and cheaper per event) the batch. */
  maxBatch: number;
  /** Batches handled at once (each is a transaction in the services). */
  maxConcurrentBatches: number;
  /** Wait before attempt 2, 3, …; the last value repeats. Each distinct value is a delay queue. */
  retryDelaysMs: readonly number[];
  /** Attempts before the event goes to the dead-letter queue. */
  maxAttempts: number;
  /**
   * Failures that say nothing about the event (its database is down or busy): retried after the longest
   * delay without counting as an attempt, so an outage longer than the retry schedule dead-letters nothing.
   */
  isTransient?: (error: unknown) => boolean;
  logger: Logger;
  registry?: Registry;
}

/** A running consumer. */
export interface EventConsumer {
  /** Resolves once the queue is declared and consumption started (the first time). */
  ready: Promise<void>;
  /** Stops fetching, lets the batches in progress finish (their events are acked), then closes. */
  close(): Promise<void>;
}
