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
export { listDeadLetters, replayDeadLetters, type DeadLetter } from './dead-letters.js';
