import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  RLWrapperTimeouts,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import {
  describeBucket,
  rateLimited,
  rateRules,
  type RateBucket,
  type RateLimiter,
} from '../domain/rate-limits.js';
import type { RedisTopology } from '../config.js';
import type { Logger } from '../logger.js';
import { createRedisClient } from './redis-connection.js';
import { guardRedis } from './redis-deadline.js';
import { rateLimitPrefix } from './redis-keys.js';

/**
 * rate-limiter-flexible over Redis (shared by all instances) or memory. If Redis fails, is not
 * connected, or does not answer within `commandTimeoutMs` (hung), an in-process limiter stands
 * in (the library's insuranceLimiter), so limits degrade to per instance instead of vanishing
 * and no request waits for Redis. `multiplier` scales every limit (0 turns limiting off, for
 * benchmarks).
 */
export function createRateLimiter(opts: {
  redis?: RedisTopology | undefined;
  keyPrefix: string;
  multiplier: number;
  commandTimeoutMs: number;
  logger: Logger;
}): RateLimiter & { close(): Promise<void> } {
  const redis = opts.redis
    ? createRedisClient(opts.redis, {
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
        // A count that missed its deadline was made in memory instead: not sent again later.
        autoResendUnfulfilledCommands: false,
      })
    : null;
  redis?.on('error', (err: Error) =>
    opts.logger.warn({ err: err.message }, 'redis rate limit error'),
  );
  // Finds a hung connection and dials it again; meanwhile it is not 'ready' and every count
  // goes to memory at once (rejectIfRedisNotReady) instead of waiting out the deadline.
  const guard = redis
    ? guardRedis(redis, {
        name: 'rate limiter',
        deadlineMs: opts.commandTimeoutMs,
        logger: opts.logger,
      })
    : null;

  const limiters = new Map<RateBucket, RateLimiterAbstract>();
  for (const [bucket, rule] of Object.entries(rateRules) as [
    RateBucket,
    (typeof rateRules)[RateBucket],
  ][]) {
    const base = {
      keyPrefix: rateLimitPrefix(opts.keyPrefix, bucket),
      points: Math.max(1, Math.round(rule.points * opts.multiplier)),
      duration: rule.windowSeconds,
      blockDuration: 'blockSeconds' in rule ? rule.blockSeconds : 0,
    };
    const memory = new RateLimiterMemory(base);
    limiters.set(
      bucket,
      redis
        ? new RLWrapperTimeouts({
            limiter: new RateLimiterRedis({
              ...base,
              storeClient: redis,
              rejectIfRedisNotReady: true,
            }),
            timeoutMs: opts.commandTimeoutMs,
            // The wrapper hands its own blockDuration to the insurance limiter: give it the rule's.
            blockDuration: base.blockDuration,
            insuranceLimiter: memory,
          })
        : memory,
    );
  }
  const enabled = opts.multiplier > 0;

  const toDomain = (bucket: RateBucket, err: unknown): never => {
    if (err instanceof RateLimiterRes) throw rateLimited(err.msBeforeNext, describeBucket[bucket]);
    throw err;
  };

  return {
    async consume(bucket, key, points = 1) {
      if (!enabled) return;
      await limiters
        .get(bucket)!
        .consume(key, points)
        .catch((err: unknown) => toDomain(bucket, err));
    },
    async reset(bucket, key) {
      if (!enabled) return;
      await limiters.get(bucket)!.delete(key);
    },
    async close() {
      guard?.stop();
      redis?.disconnect();
    },
  };
}
