import { signToken } from '@platform/auth';

/** The HS256 secret of services under test (AUTH_JWT_SECRET in `testServiceEnv`). */
export const TEST_AUTH_SECRET = 'test-secret-of-the-order-platform-32b';

/** A bearer token for `subject` (a customer's user id), an operator's with `operator`; valid an hour. */
export function testToken(subject: string, options: { operator?: boolean } = {}): Promise<string> {
  return signToken(TEST_AUTH_SECRET, {
    subject,
    roles: options.operator === true ? ['operator'] : [],
    ttlS: 3600,
  });
}
