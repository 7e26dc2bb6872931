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

let operator: Promise<string> | undefined;

/** An operator's token, made once per test file (listing every order, the query APIs: SPEC §4.10). */
export function operatorToken(): Promise<string> {
  operator ??= testToken('test-operator', { operator: true });
  return operator;
}

/** The headers of an operator's request. */
export async function operatorHeaders(): Promise<{ authorization: string }> {
  return { authorization: `Bearer ${await operatorToken()}` };
}
