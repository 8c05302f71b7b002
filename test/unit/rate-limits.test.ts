import { describe, expect, it } from 'vitest';
import { isLoopback, rateRules } from '../../src/domain/rate-limits.js';
import { createLogger } from '../../src/logger.js';
import { createRateLimiter } from '../../src/realtime/rate-limiter.js';

describe('isLoopback (who counts as the machine itself)', () => {
  it('is 127.0.0.0/8 and ::1, also IPv4-mapped', () => {
    for (const ip of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) {
      expect(isLoopback(ip), ip).toBe(true);
    }
  });
  it('is no other address, nor one that merely looks alike', () => {
    for (const ip of ['10.0.0.1', '203.0.113.9', '::ffff:10.0.0.1', '1127.0.0.1', 'unknown', '']) {
      expect(isLoopback(ip), ip).toBe(false);
    }
  });
});

describe('counting a list (a list of phones spends one point each, in one step)', () => {
  // The in-process limiter the embedded mode runs (Redis counts the same rules the same way).
  const limiter = () =>
    createRateLimiter({
      keyPrefix: 'test:',
      multiplier: 1,
      commandTimeoutMs: 150,
      logger: createLogger('silent'),
    });

  it('lets concurrent lists together through only as far as the budget goes', async () => {
    const rl = limiter();
    const calls = await Promise.allSettled(
      [10, 10, 10, 10, 10].map((n) => rl.consume('userByPhone', 'u', n)),
    );
    const through = calls.filter((c) => c.status === 'fulfilled').length;
    expect(through * 10).toBeLessThanOrEqual(rateRules.userByPhone.points);
    expect(through).toBeGreaterThan(0);
    for (const c of calls) {
      if (c.status === 'rejected') expect(String(c.reason)).toMatch(/phone lookups/);
    }
  });

  it('refuses a list longer than what is left, whole', async () => {
    const rl = limiter();
    await rl.consume('userByPhone', 'v', rateRules.userByPhone.points - 5);
    await expect(rl.consume('userByPhone', 'v', 2_000)).rejects.toThrow(/phone lookups/);
    await expect(rl.consume('userByPhone', 'w', 2_000)).rejects.toThrow(/phone lookups/);
  });
});
