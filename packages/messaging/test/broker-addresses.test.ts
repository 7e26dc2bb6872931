import { describe, expect, it } from 'vitest';
import { brokerAddresses, RABBITMQ_URLS_PATTERN } from '../src/broker-addresses.js';

describe('RABBITMQ_URL', () => {
  const pattern = new RegExp(RABBITMQ_URLS_PATTERN);

  it('accepts one URL or several separated by commas, and nothing else', () => {
    expect(pattern.test('amqp://guest:guest@127.0.0.1:5672')).toBe(true);
    expect(pattern.test('amqp://u:p@rabbit-0:5672,amqp://u:p@rabbit-1:5672, amqp://u:p@rabbit-2')).toBe(true);
    expect(pattern.test('amqps://u:p@rabbit/vhost?heartbeat=5')).toBe(true);
    for (const bad of ['http://rabbit', 'amqp://a,', 'amqp://a,,amqp://b', 'amqp://a,rabbit-1:5672', '']) {
      expect(pattern.test(bad), bad).toBe(false);
    }
  });

  it('gives the first URL for credentials and every node as host:port (default 5672, 5671 for amqps)', () => {
    expect(brokerAddresses('amqp://u:p@rabbit-0:5673,amqp://u:p@rabbit-1', () => 0)).toEqual({
      url: 'amqp://u:p@rabbit-0:5673',
      hosts: ['rabbit-0:5673', 'rabbit-1:5672'],
    });
    expect(brokerAddresses('amqps://u:p@a,amqps://u:p@b', () => 0).hosts).toEqual(['a:5671', 'b:5671']);
  });

  it('starts at a random node and keeps the order after it', () => {
    const urls = 'amqp://u:p@a:1,amqp://u:p@b:2,amqp://u:p@c:3';
    expect(brokerAddresses(urls, () => 0.5).hosts).toEqual(['b:2', 'c:3', 'a:1']);
    expect(brokerAddresses(urls, () => 0.99).hosts).toEqual(['c:3', 'a:1', 'b:2']);
  });

  it('refuses nodes that differ in credentials, vhost, scheme or options', () => {
    for (const other of ['amqp://x:p@b', 'amqp://u:p@b/other', 'amqps://u:p@b', 'amqp://u:p@b?heartbeat=5']) {
      expect(() => brokerAddresses(`amqp://u:p@a,${other}`)).toThrow(/differs from a/);
    }
  });
});
