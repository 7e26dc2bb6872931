export { connectBroker, type Broker, type BrokerOptions, type OutgoingMessage } from './broker.js';
export {
  startConsumer,
  type ConsumerOptions,
  type EventConsumer,
  type EventContext,
  type EventHandler,
} from './consumer.js';
export { deleteTopology, type Subscriptions } from './topology.js';
export { listDeadLetters, replayDeadLetters, type DeadLetter } from './dead-letters.js';
