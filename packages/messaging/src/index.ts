export { connectBroker, type Broker, type BrokerOptions, type OutgoingMessage } from './broker.js';
