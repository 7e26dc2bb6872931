import type { Connection } from 'rabbitmq-client';

/*
 * Every quorum queue states its delivery limit. RabbitMQ 3.x has none unless one is set; 4.0 gives each
 * quorum queue a default of 20 and counts messages returned to the queue as deliveries, then drops (or
 * dead-letters) a message past the limit (rabbitmq-server#11937, rabbitmq.com "Quorum Queues", poison
 * message handling). Stated here, the behaviour is the same on both, and a queue declared on 3.x is
 * declared with the same arguments on 4.x (RabbitMQ refuses to redeclare a queue with other arguments).
 */

/**
 * Redeliveries a quorum queue allows before it dead-letters a message by itself. Failures a handler
 * reports go through the delayed retry queues and never count here; this bounds only the messages that
 * keep killing their consumer (a crash, a lost channel) before it can say anything.
 */
export const CRASH_DELIVERY_LIMIT = 10;

/**
 * The limit of the queues whose messages are looked at rather than consumed: dead letters and their
 * archive. A listing moves the letters it shows (a fresh copy to the back, see `listDeadLetters`), so it
 * counts no delivery; a letter given back otherwise (a tool that crashed holding it) would count one, and
 * at 4.x's default of 20 would be dropped after 20 (these queues have no dead-letter exchange). A million
 * is a limit nothing reaches. -1, 4.x's "no limit", is not used: RabbitMQ 3.10.8 accepted it and dropped a
 * letter at its first return (measured).
 */
export const LETTER_DELIVERY_LIMIT = 1_000_000;

/**
 * Quorum queues dead-letter at most once by default: a message expiring from a delay queue while the
 * broker restarts could vanish. At least once (RabbitMQ 3.10+) keeps it until the target queue confirmed
 * it; RabbitMQ requires the reject-publish overflow for that, which only matters with a length limit (none).
 */
const AT_LEAST_ONCE_DEAD_LETTERING = {
  'x-dead-letter-strategy': 'at-least-once',
  'x-overflow': 'reject-publish',
} as const;

/** The queues a consuming service owns: its work queue, its dead-letter queue and their archive. */
export interface ServiceQueues {
  queue: string;
  deadLetterQueue: string;
  /** Dead letters an operator discarded (see `discardDeadLetters`). */
  archiveQueue: string;
}

/** Queue names are prefixed with the exchange, so an exchange of a test's own brings queues of its own. */
export function serviceQueues(exchange: string, service: string): ServiceQueues {
  const queue = `${exchange}.${service}`;
  return { queue, deadLetterQueue: `${queue}.dlq`, archiveQueue: `${queue}.dlq.archive` };
}

/** The delay queue that holds a failed message for `delayMs`, then hands it back to the work queue. */
export function retryQueueName(exchange: string, service: string, delayMs: number): string {
  return `${serviceQueues(exchange, service).queue}.retry.${delayMs}ms`;
}

/** Quorum queue arguments for a work queue; identical wherever it is declared, as RabbitMQ requires. */
export function workQueueDeclaration(exchange: string, service: string) {
  const { queue, deadLetterQueue } = serviceQueues(exchange, service);
  return {
    queue,
    durable: true,
    arguments: {
      'x-queue-type': 'quorum' as const,
      'x-delivery-limit': CRASH_DELIVERY_LIMIT,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': deadLetterQueue,
      ...AT_LEAST_ONCE_DEAD_LETTERING,
    },
  };
}

/** A service's dead-letter queue: what its consumer gave up on, kept until an operator acts. */
export function deadLetterQueueDeclaration(exchange: string, service: string) {
  return {
    queue: serviceQueues(exchange, service).deadLetterQueue,
    durable: true,
    arguments: { 'x-queue-type': 'quorum' as const, 'x-delivery-limit': LETTER_DELIVERY_LIMIT },
  };
}

/**
 * How long a discarded dead letter stays in the archive, in ms (30 days): the archive is a record an
 * operator may look back at, not a store that grows for ever (issue 22). RabbitMQ drops a message whose
 * TTL ran out once it reaches the queue's head; letters are archived oldest first, so the oldest go first.
 */
export const ARCHIVE_RETENTION_MS = 30 * 24 * 3_600_000;

/**
 * The archive of a service's discarded dead letters: what an operator threw away stays listable for
 * ARCHIVE_RETENTION_MS (a quorum queue like the dead-letter queue; nothing consumes it).
 */
export function archiveQueueDeclaration(exchange: string, service: string) {
  return {
    queue: serviceQueues(exchange, service).archiveQueue,
    durable: true,
    arguments: {
      'x-queue-type': 'quorum' as const,
      'x-delivery-limit': LETTER_DELIVERY_LIMIT,
      'x-message-ttl': ARCHIVE_RETENTION_MS,
    },
  };
}

/** A delay queue: messages expire after `delayMs` and are dead-lettered back to the work queue. */
export function retryQueueDeclaration(exchange: string, service: string, delayMs: number) {
  return {
    queue: retryQueueName(exchange, service, delayMs),
    durable: true,
    arguments: {
      'x-queue-type': 'quorum' as const,
      // Nothing consumes a delay queue (its messages expire); stated so that 4.x's default does not apply.
      'x-delivery-limit': CRASH_DELIVERY_LIMIT,
      'x-message-ttl': delayMs,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': serviceQueues(exchange, service).queue,
      ...AT_LEAST_ONCE_DEAD_LETTERING,
    },
  };
}

/**
 * Every queue a consuming service owns, as it declares them: its work queue, dead-letter queue, their
 * archive and a delay queue per retry delay (`retryDelaysMs`, CONSUMER_RETRY_DELAYS_MS).
 */
export function serviceQueueDeclarations(
  exchange: string,
  service: string,
  retryDelaysMs: readonly number[],
) {
  return [
    workQueueDeclaration(exchange, service),
    deadLetterQueueDeclaration(exchange, service),
    archiveQueueDeclaration(exchange, service),
    ...retryDelaysMs.map((ms) => retryQueueDeclaration(exchange, service, ms)),
  ];
}

/** Who consumes what: service name → binding keys on the exchange. */
export type Subscriptions = Readonly<Record<string, readonly string[]>>;

/** Every service's work and dead-letter queues, and their bindings: what a publisher declares first. */
export function topologyDeclarations(exchange: string, subscriptions: Subscriptions) {
  const services = Object.keys(subscriptions);
  return {
    queues: services.flatMap((service) => [
      workQueueDeclaration(exchange, service),
      deadLetterQueueDeclaration(exchange, service),
    ]),
    queueBindings: services.flatMap((service) =>
      (subscriptions[service] ?? []).map((routingKey) => ({
        exchange,
        queue: serviceQueues(exchange, service).queue,
        routingKey,
      })),
    ),
  };
}

/** Deletes every queue of the topology (tests, which declare one per exchange of their own). */
export async function deleteTopology(
  connection: Connection,
  exchange: string,
  subscriptions: Subscriptions,
  retryDelaysMs: readonly number[] = [],
): Promise<void> {
  for (const service of Object.keys(subscriptions)) {
    for (const { queue } of serviceQueueDeclarations(exchange, service, retryDelaysMs)) {
      await connection.queueDelete({ queue });
    }
  }
}
