export { brokerAddresses, RABBITMQ_URLS_PATTERN, type BrokerAddresses } from './broker-addresses.js';
export { connectBroker, type Broker, type BrokerOptions, type OutgoingMessage } from './broker.js';
export {
  startConsumer,
  type BatchHandler,
  type ConsumedEvent,
  type ConsumerOptions,
  type EventConsumer,
  type EventResult,
} from './consumer.js';
export { InvalidEventError, nextHop, type NextHop } from './failure-routing.js';
export {
  ARCHIVE_RETENTION_MS,
  CRASH_DELIVERY_LIMIT,
  deleteTopology,
  LETTER_DELIVERY_LIMIT,
  serviceQueueDeclarations,
  serviceQueues,
  type Subscriptions,
} from './topology.js';
export { upgradeQueues, type UpgradedQueue } from './queue-upgrade.js';
export {
  countDeadLetters,
  LETTER_PAGE_MAX,
  listArchivedLetters,
  listDeadLetters,
} from './dead-letter-listing.js';
export type { DeadLetter, LetterSelection } from './dead-letter.js';
export { discardDeadLetters, replayDeadLetters } from './dead-letters.js';
