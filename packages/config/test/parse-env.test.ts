import { describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { ConfigError, parseEnv } from '../src/index.js';

const Schema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8000 }),
  DATABASE_URL: Type.String({ pattern: '^postgres://' }),
  VERBOSE: Type.Boolean({ default: false }),
});

describe('parseEnv', () => {
  it('applies defaults and converts strings to the declared types', () => {
    expect(parseEnv(Schema, { DATABASE_URL: 'postgres://x/db', VERBOSE: 'true' })).toEqual({
      PORT: 8000,
      DATABASE_URL: 'postgres://x/db',
      VERBOSE: true,
    });
    expect(parseEnv(Schema, { DATABASE_URL: 'postgres://x/db', PORT: '9001' }).PORT).toBe(9001);
  });

  it('treats an empty variable as unset', () => {
    expect(parseEnv(Schema, { DATABASE_URL: 'postgres://x/db', PORT: '' }).PORT).toBe(8000);
  });

  it('reports every problem at once, naming the variable and the value it got', () => {
    let error: unknown;
    try {
      parseEnv(Schema, { PORT: 'eighty', DATABASE_URL: 'mysql://nope' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(problems).toHaveLength(2);
    expect(message).toMatch(/PORT: .*integer.*\(got "eighty"\)/);
    expect(message).toMatch(/DATABASE_URL: .*\(got "mysql:\/\/nope"\)/);
  });

  it('never prints a secret: a secret-named variable or a URL with credentials (issue 22)', () => {
    const Secrets = Type.Object({
      AUTH_JWT_SECRET: Type.String({ minLength: 32 }),
      DATABASE_URL: Type.String({ pattern: '^postgres://' }),
      RABBITMQ_URL: Type.String({ pattern: '^amqps?://' }),
    });
    let message = '';
    try {
      parseEnv(Secrets, {
        AUTH_JWT_SECRET: 'short-hunter2',
        DATABASE_URL: 'postgresq://admin:pg-hunter2@db/orders',
        RABBITMQ_URL: 'ampq://host,amqp://bob:mq-hunter2@other',
      });
    } catch (caught) {
      message = (caught as ConfigError).message;
    }
    expect(message).toMatch(/AUTH_JWT_SECRET: .*13 characters, not shown/);
    expect(message).toMatch(/DATABASE_URL: .*URL with credentials, not shown/);
    expect(message).toMatch(/RABBITMQ_URL: .*URL with credentials, not shown/);
    expect(message).not.toMatch(/hunter2/);
  });

  it('names a missing required variable', () => {
    expect(() => parseEnv(Schema, {})).toThrow(/DATABASE_URL.*\(not set\)/);
  });
});
