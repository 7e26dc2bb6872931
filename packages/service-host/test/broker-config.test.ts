import { describe, expect, it } from 'vitest';
import { ConfigError } from '@platform/config';
import { checkBrokerAddresses } from '../src/service-env.js';

describe('RABBITMQ_URL at start', () => {
  it("accepts a cluster's nodes, however the default vhost is written", () => {
    expect(() =>
      checkBrokerAddresses('amqp://u:p@rabbit-0,amqp://u:p@rabbit-1/,amqp://u:p@rabbit-2:5673'),
    ).not.toThrow();
  });

  it('refuses nodes that differ in credentials or vhost as a configuration error', () => {
    for (const urls of ['amqp://u:p@a,amqp://x:p@b', 'amqp://u:p@a/one,amqp://u:p@b/two']) {
      expect(() => checkBrokerAddresses(urls), urls).toThrow(ConfigError);
    }
  });
});
