import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTokenService } from '../../src/domain/auth.js';
import { DomainError } from '../../src/domain/errors.js';

const codeOf = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  return err instanceof DomainError ? `${err.code}: ${err.message}` : String(err);
};

describe('session tokens', () => {
  afterEach(() => vi.useRealTimers());

  it('a token verified once (and remembered) still expires on time', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const tokens = createTokenService('s'.repeat(32), '1h');
    const token = await tokens.issue('user-1');
    const issuedAt = Date.now();
    expect((await tokens.verify(token)).userId).toBe('user-1');
    // Told, so that a WebSocket opened with it can end on time (to the second, as `exp`).
    const { expiresAt } = await tokens.verify(token);
    expect(expiresAt! - issuedAt).toBeGreaterThan(59 * 60_000 + 59_000);
    expect(expiresAt! - issuedAt).toBeLessThanOrEqual(60 * 60_000);
    vi.setSystemTime(Date.now() + 59 * 60_000);
    expect((await tokens.verify(token)).userId).toBe('user-1');
    vi.setSystemTime(Date.now() + 2 * 60_000);
    expect(await codeOf(tokens.verify(token))).toBe(
      'UNAUTHENTICATED: Your session has expired: log in again.',
    );
  });

  it('refuses a token signed with another secret or altered, even after a valid one', async () => {
    const ours = createTokenService('a'.repeat(32), '1h');
    const theirs = createTokenService('b'.repeat(32), '1h');
    const good = await ours.issue('user-1');
    expect((await ours.verify(good)).userId).toBe('user-1');
    const [header, payload, signature] = good.split('.') as [string, string, string];
    const otherUser = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'x' }),
    ).toString('base64url');
    expect(await codeOf(ours.verify(`${header}.${otherUser}.${signature}`))).toBe(
      'UNAUTHENTICATED: Invalid token: log in again.',
    );
    expect(await codeOf(ours.verify(await theirs.issue('user-1')))).toBe(
      'UNAUTHENTICATED: Invalid token: log in again.',
    );
  });
});
