import { describe, expect, it } from 'vitest';
import { ConfigError } from '@platform/config';
import { describeReplicas, parseReplicas } from '../src/supervisor/replicas.js';

describe('--replicas', () => {
  it('is one instance of each service when not given', () => {
    expect(parseReplicas([])).toEqual({ order: 1, inventory: 1, payment: 1, fulfilment: 1, notification: 1 });
    expect(describeReplicas(parseReplicas([]))).toBe('');
  });

  it('takes a count for every service, per-service counts, and lets later parts win', () => {
    expect(parseReplicas(['2'])).toEqual({
      order: 2,
      inventory: 2,
      payment: 2,
      fulfilment: 2,
      notification: 2,
    });
    expect(parseReplicas(['payment=3'])).toMatchObject({ order: 1, payment: 3 });
    const mixed = parseReplicas(['2,payment=3', 'order=1']);
    expect(mixed).toEqual({ order: 1, inventory: 2, payment: 3, fulfilment: 2, notification: 2 });
    expect(describeReplicas(mixed)).toBe('inventory ×2, payment ×3, fulfilment ×2, notification ×2');
  });

  it('refuses bad counts and unknown services, naming each', () => {
    const problems = (values: string[]) => {
      try {
        parseReplicas(values);
        return [];
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems;
      }
    };
    expect(problems(['0'])).toEqual(['--replicas 0: the count must be a whole number from 1 to 16']);
    expect(problems(['17', 'payment=x', 'console=2', '1.5'])).toEqual([
      '--replicas 17: the count must be a whole number from 1 to 16',
      '--replicas payment=x: the count must be a whole number from 1 to 16',
      "--replicas console=2: no service 'console' (one of order, inventory, payment, fulfilment, notification)",
      '--replicas 1.5: the count must be a whole number from 1 to 16',
    ]);
  });
});
