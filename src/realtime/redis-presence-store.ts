import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { PresenceStore } from './presence-store.js';

// <prefix>presence:c:<user>  ZSET connection → expiresAt (ms)
// <prefix>presence:due       ZSET user → when to decide whether the user went OFFLINE
// <prefix>presence:on        SET of users announced ONLINE
const CONNECT = `
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[2], 'GT', tonumber(ARGV[2]) + tonumber(ARGV[4]), ARGV[3])
return redis.call('SADD', KEYS[3], ARGV[3])`;

const RENEW = `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
  redis.call('ZADD', KEYS[2], 'GT', tonumber(ARGV[2]) + tonumber(ARGV[4]), ARGV[3])
end
return 0`;

// Atomic, so each user going OFFLINE is handed to exactly one instance.
const SWEEP = `
local now = tonumber(ARGV[1])
local grace = tonumber(ARGV[2])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 200)
local offline = {}
for _, user in ipairs(due) do
  redis.call('ZREM', KEYS[1], user)
  local key = ARGV[3] .. user
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if newest[2] then
    redis.call('ZADD', KEYS[1], tonumber(newest[2]) + grace, user)
  elseif redis.call('SREM', KEYS[2], user) == 1 then
    table.insert(offline, user)
  end
end
return offline`;

export function createRedisPresenceStore(
  url: string,
  keyPrefix: string,
  graceMs: number,
  logger: Logger,
): PresenceStore {
  const CONNECTIONS_PREFIX = `${keyPrefix}presence:c:`;
  const DUE = `${keyPrefix}presence:due`;
  const ONLINE = `${keyPrefix}presence:on`;
  const redis = new Redis(url, {
    maxRetriesPerRequest: 2,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
  });
  redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis presence error'));
  const connectionsKey = (userId: string) => CONNECTIONS_PREFIX + userId;

  return {
    kind: 'redis',
    async connect(userId, connectionId, expiresAt) {
      const added = await redis.eval(
        CONNECT,
        3,
        connectionsKey(userId),
        DUE,
        ONLINE,
        connectionId,
        expiresAt,
        userId,
        graceMs,
      );
      return added === 1;
    },
    async disconnect(userId, connectionId, now) {
      await redis
        .multi()
        .zrem(connectionsKey(userId), connectionId)
        .zadd(DUE, now + graceMs, userId)
        .exec();
    },
    async renew(list, expiresAt) {
      if (list.length === 0) return;
      const pipeline = redis.pipeline();
      for (const { userId, connectionId } of list) {
        pipeline.eval(
          RENEW,
          2,
          connectionsKey(userId),
          DUE,
          connectionId,
          expiresAt,
          userId,
          graceMs,
        );
      }
      await pipeline.exec();
    },
    async online(userIds) {
      if (userIds.length === 0) return new Set();
      const flags = await redis.smismember(ONLINE, ...userIds);
      return new Set(userIds.filter((_, i) => flags[i] === 1));
    },
    async sweep(now) {
      return (await redis.eval(
        SWEEP,
        2,
        DUE,
        ONLINE,
        now,
        graceMs,
        CONNECTIONS_PREFIX,
      )) as string[];
    },
    async close() {
      redis.disconnect();
    },
  };
}
