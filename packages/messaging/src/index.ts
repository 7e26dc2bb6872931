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
export { deleteTopology, type Subscriptions } from './topology.js';
export {
  discardDeadLetters,
  listArchivedLetters,
  listDeadLetters,
  replayDeadLetters,
  type DeadLetter,
  type LetterSelection,
} from './dead-letters.js';
