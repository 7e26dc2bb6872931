export { connectBroker, type Broker, type BrokerOptions, type OutgoingMessage } from './broker.js';
export {
  startConsumer,
  parseEnvelope,
  ATTEMPT_HEADER,
  LAST_ERROR_HEADER,
  ORIGINAL_ROUTING_KEY_HEADER,
  type ConsumerOptions,
  type EventConsumer,
  type EventContext,
  type EventHandler,
} from './consumer.js';
export {
  serviceQueues,
  retryQueueName,
  deleteTopology,
  type ServiceQueues,
  type Subscriptions,
} from './topology.js';
export { listDeadLetters, replayDeadLetters, type DeadLetter } from './dead-letters.js';
