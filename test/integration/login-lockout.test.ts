// Password guessing (issue 14): every attempt is counted before its password is checked, so
// concurrent guesses cannot slip past the count; the lock is per (phone, address), so a
// stranger's wrong guesses lock out only the stranger; a looser ceiling per phone holds for
// guessers spread over many addresses. In both deployments: in process, and in Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deployments,
  errorCode,
  ok,
  registerUser,
  startApp,
  type GraphQLResponse,
  type TestApp,
} from '../support/app.js';

const LOGIN = `mutation($i: LoginInput!) { login(input: $i) { token } }`;
const PASSWORD = 'correct horse battery';

for (const d of deployments()) {
  describe.skipIf(!d.available)(`login lockout (${d.name})`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startApp(d.backend, {
        ...(d.redisUrl ? { redisUrl: d.redisUrl } : {}),
        // The real limits, and the client address taken from X-Forwarded-For.
        env: { RATE_LIMIT_MULTIPLIER: '1', TRUST_PROXY: 'true' },
      });
    });
    afterAll(() => app.close());

    const loginAt = async (
      target: TestApp,
      address: string,
      phone: string,
      password: string,
      token?: string,
    ): Promise<GraphQLResponse<{ login: { token: string } }>> => {
      const res = await fetch(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-forwarded-for': address,
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query: LOGIN, variables: { i: { phone, password } } }),
      });
      return (await res.json()) as GraphQLResponse<{ login: { token: string } }>;
    };
    const loginFrom = (address: string, phone: string, password: string) =>
      loginAt(app, address, phone, password);
    const count = (answers: GraphQLResponse<unknown>[], code: string) =>
      answers.filter((a) => errorCode(a) === code).length;

    it('checks at most five of 25 concurrent guesses, and not the right password sent 20th among them', async () => {
      const user = await registerUser(app);
      const address = '203.0.113.10';
      // A password is checked only for a phone that was looked up: the lookups are the guesses
      // that got past the lock.
      const lookups = () => app.statements.filter((s) => /"phone" = \$1/.test(s)).length;
      const before = lookups();
      const answers = await Promise.all(
        Array.from({ length: 25 }, (_, i) =>
          loginFrom(address, user.phone, i === 19 ? PASSWORD : 'wrong password'),
        ),
      );
      expect(lookups() - before).toBeLessThanOrEqual(5);
      expect(errorCode(answers[19]!)).toBe('RATE_LIMITED');
      expect(count(answers, 'UNAUTHENTICATED')).toBeLessThanOrEqual(5);
      expect(count(answers, 'UNAUTHENTICATED') + count(answers, 'RATE_LIMITED')).toBe(25);
      const later = await loginFrom(address, user.phone, PASSWORD);
      expect(errorCode(later)).toBe('RATE_LIMITED');
      expect(later.errors?.[0]?.extensions?.['retryAfterSeconds']).toBeGreaterThan(60);
    });

    it("lets the owner in from another address while a stranger's guesses lock the stranger out", async () => {
      const user = await registerUser(app);
      const stranger = '203.0.113.20';
      for (let i = 0; i < 5; i++) {
        expect(errorCode(await loginFrom(stranger, user.phone, 'wrong password'))).toBe(
          'UNAUTHENTICATED',
        );
      }
      expect(errorCode(await loginFrom(stranger, user.phone, 'wrong password'))).toBe(
        'RATE_LIMITED',
      );
      expect(errorCode(await loginFrom(stranger, user.phone, PASSWORD))).toBe('RATE_LIMITED');

      const owner = ok(await loginFrom('198.51.100.7', user.phone, PASSWORD));
      ok(await app.gql(`{ me { id } }`, {}, owner.login.token));
      // The owner's success forgives the owner's address only.
      expect(errorCode(await loginFrom(stranger, user.phone, PASSWORD))).toBe('RATE_LIMITED');
    });

    it('locks the phone for everyone once guesses spread over many addresses reach its ceiling, except a device the owner is signed in on', async () => {
      // A fifth of every limit (one guess per address, 20 per phone), to hash fewer passwords.
      const small = await startApp(d.backend, {
        ...(d.redisUrl ? { redisUrl: d.redisUrl } : {}),
        env: { RATE_LIMIT_MULTIPLIER: '0.2', TRUST_PROXY: 'true' },
      });
      try {
        const user = await registerUser(small);
        const answers = await Promise.all(
          Array.from({ length: 20 }, (_, a) =>
            loginAt(small, `198.18.0.${a + 1}`, user.phone, 'wrong password'),
          ),
        );
        expect(count(answers, 'UNAUTHENTICATED')).toBe(20);
        const again = await loginAt(small, '198.18.0.1', user.phone, PASSWORD);
        expect(again.errors?.[0]?.message).toMatch(/from this address/);
        const fresh = await loginAt(small, '198.18.1.1', user.phone, PASSWORD);
        expect(errorCode(fresh)).toBe('RATE_LIMITED');
        expect(fresh.errors?.[0]?.message).not.toMatch(/from this address/);
        expect(fresh.errors?.[0]?.message).toMatch(/locked/);
        // The owner, on a device still signed in, gets through the lock; a wrong password
        // there is still refused, and someone else's token opens nothing.
        const signedIn = await loginAt(small, '198.18.1.2', user.phone, PASSWORD, user.token);
        ok(await small.gql(`{ me { id } }`, {}, ok(signedIn).login.token));
        const wrong = await loginAt(small, '198.18.1.2', user.phone, 'wrong', user.token);
        expect(errorCode(wrong)).toBe('UNAUTHENTICATED');
        const other = await registerUser(small);
        const foreign = await loginAt(small, '198.18.1.3', user.phone, PASSWORD, other.token);
        expect(errorCode(foreign)).toBe('RATE_LIMITED');
      } finally {
        await small.close();
      }
    });
  });
}
