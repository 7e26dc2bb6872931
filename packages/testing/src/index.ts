export { createTestDatabase, type TestDatabase } from './test-database.js';
export { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
export {
  createTestExchange,
  TEST_RABBITMQ_URL,
  TEST_RETRY_DELAYS_MS,
  testServiceEnv,
  type TestExchange,
  type CapturedMessage,
} from './test-exchange.js';
export { waitFor } from './wait-for.js';
export { sagaEvent } from './saga-events.js';
export { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver.js';
export { operatorHeaders, operatorToken, TEST_AUTH_SECRET, testToken } from './test-tokens.js';
