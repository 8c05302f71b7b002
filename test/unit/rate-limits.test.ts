import { describe, expect, it } from 'vitest';
import {
  consumeMany,
  isLoopback,
  rateLimited,
  type RateLimiter,
} from '../../src/domain/rate-limits.js';

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

describe('consumeMany (a list of phones spends one point each)', () => {
  /** Counts every point asked for, like rate-limiter-flexible; refuses those past `budget`. */
  const limiter = (budget: number) => {
    let used = 0;
    const fake: RateLimiter & { asked: () => number } = {
      consume: async () => {
        await Promise.resolve();
        used += 1;
        if (used > budget) throw rateLimited(60_000, 'phone lookups');
      },
      check: async () => undefined,
      reset: async () => undefined,
      asked: () => used,
    };
    return fake;
  };

  it('lets concurrent lists together through only as far as the budget goes', async () => {
    const rl = limiter(30);
    const calls = await Promise.allSettled(
      [10, 10, 10, 10, 10].map((n) => consumeMany(rl, 'userByPhone', 'u', n)),
    );
    const through = calls.filter((c) => c.status === 'fulfilled').length;
    expect(through * 10).toBeLessThanOrEqual(30);
    for (const c of calls) {
      if (c.status === 'rejected') expect(String(c.reason)).toMatch(/phone lookups/);
    }
  });

  it('stops counting a long refused list a batch past the budget', async () => {
    const rl = limiter(30);
    await expect(consumeMany(rl, 'userByPhone', 'u', 2_000)).rejects.toThrow(/phone lookups/);
    expect(rl.asked()).toBeLessThanOrEqual(100);
  });
});
