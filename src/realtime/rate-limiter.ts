import { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import {
  describeBucket,
  rateLimited,
  rateRules,
  type RateBucket,
  type RateLimiter,
} from '../domain/rate-limits.js';
import type { Logger } from '../logger.js';

/**
 * rate-limiter-flexible over Redis (shared by all instances) or memory. If Redis fails, an
 * in-process limiter stands in, so limits degrade to per instance instead of vanishing.
 * `multiplier` scales every limit (0 turns limiting off, for benchmarks).
 */
export function createRateLimiter(opts: {
  redisUrl?: string | undefined;
  keyPrefix: string;
  multiplier: number;
  logger: Logger;
}): RateLimiter & { close(): Promise<void> } {
  const redis = opts.redisUrl
    ? new Redis(opts.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false })
    : null;
  redis?.on('error', (err: Error) =>
    opts.logger.warn({ err: err.message }, 'redis rate limit error'),
  );

  const limiters = new Map<RateBucket, RateLimiterAbstract>();
  for (const [bucket, rule] of Object.entries(rateRules) as [
    RateBucket,
    (typeof rateRules)[RateBucket],
  ][]) {
    const base = {
      keyPrefix: `${opts.keyPrefix}rl:${bucket}`,
      points: Math.max(1, Math.round(rule.points * opts.multiplier)),
      duration: rule.windowSeconds,
      blockDuration: 'blockSeconds' in rule ? rule.blockSeconds : 0,
    };
    const memory = new RateLimiterMemory(base);
    limiters.set(
      bucket,
      redis
        ? new RateLimiterRedis({ ...base, storeClient: redis, insuranceLimiter: memory })
        : memory,
    );
  }
  const enabled = opts.multiplier > 0;

  const toDomain = (bucket: RateBucket, err: unknown): never => {
    if (err instanceof RateLimiterRes) throw rateLimited(err.msBeforeNext, describeBucket[bucket]);
    throw err;
  };

  return {
    async consume(bucket, key) {
      if (!enabled) return;
      await limiters
        .get(bucket)!
        .consume(key)
        .catch((err: unknown) => toDomain(bucket, err));
    },
    async check(bucket, key) {
      if (!enabled) return;
      const limiter = limiters.get(bucket)!;
      const res = await limiter.get(key);
      if (res && res.remainingPoints <= 0 && res.msBeforeNext > 0) {
        throw rateLimited(res.msBeforeNext, describeBucket[bucket]);
      }
    },
    async reset(bucket, key) {
      if (!enabled) return;
      await limiters.get(bucket)!.delete(key);
    },
    async close() {
      redis?.disconnect();
    },
  };
}
