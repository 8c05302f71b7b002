import type { RedisTopology } from '../config.js';
import type { Logger } from '../logger.js';
import type { PresenceChange, PresenceStore } from './presence-store.js';
import { createRedisClient } from './redis-connection.js';
import { guardRedis, hungAfterMs } from './redis-deadline.js';
import { presenceKeys } from './redis-keys.js';

// <prefix>presence:c:<user>  ZSET connection → expiresAt (ms)
// <prefix>presence:due       ZSET user → when to decide whether the user went OFFLINE
// <prefix>presence:on        SET of users announced ONLINE
// <prefix>presence:v         HASH user → version, bumped on every change of status
// (On Redis Cluster all of them carry one hash tag, see redis-keys.ts: the sweep builds per-user
// keys from an argument, which a cluster allows only within the slot of the declared keys.)

// Adds, renews or puts back a connection; returns the new version when the user came ONLINE,
// else 0.
const CONNECT = `
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[2], 'GT', tonumber(ARGV[2]) + tonumber(ARGV[4]), ARGV[3])
if redis.call('SADD', KEYS[3], ARGV[3]) == 1 then
  return redis.call('HINCRBY', KEYS[4], ARGV[3], 1)
end
return 0`;

// Atomic, so each user going OFFLINE is handed to exactly one instance. Returns
// (user, version, due time) triples.
const SWEEP = `
local now = tonumber(ARGV[1])
local grace = tonumber(ARGV[2])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, 200)
local offline = {}
for i = 1, #due, 2 do
  local user = due[i]
  redis.call('ZREM', KEYS[1], user)
  local key = ARGV[3] .. user
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if newest[2] then
    redis.call('ZADD', KEYS[1], tonumber(newest[2]) + grace, user)
  elseif redis.call('SREM', KEYS[2], user) == 1 then
    table.insert(offline, user)
    table.insert(offline, redis.call('HINCRBY', KEYS[3], user, 1))
    table.insert(offline, due[i + 1])
  end
end
return offline`;

/**
 * Every call has a deadline and fails at once while the connection is lost or hung: presence
 * waits for no one. A lookup (`online`, on a request's path) gets `commandTimeoutMs`; the
 * writes, which no request waits for, get as long as a connection has before it counts as hung.
 * What a failed call leaves undone is redone by the next heartbeat (renew puts back
 * connections) or sweep.
 */
export function createRedisPresenceStore(
  topology: RedisTopology,
  keyPrefix: string,
  graceMs: number,
  logger: Logger,
  opts: { commandTimeoutMs: number },
): PresenceStore {
  const keys = presenceKeys(keyPrefix, topology.kind === 'cluster');
  const CONNECTIONS_PREFIX = keys.connectionsPrefix;
  const DUE = keys.due;
  const ONLINE = keys.online;
  const VERSIONS = keys.versions;
  const redis = createRedisClient(topology, {
    maxRetriesPerRequest: 2,
    // A call that missed its deadline has failed for its caller; replaying it after a
    // reconnect would apply a stale change.
    autoResendUnfulfilledCommands: false,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
  });
  redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis presence error'));
  const guard = guardRedis(redis, {
    name: 'presence',
    deadlineMs: opts.commandTimeoutMs,
    logger,
  });
  const background = hungAfterMs(opts.commandTimeoutMs);
  const connectArgs = (userId: string, connectionId: string, expiresAt: number) =>
    [
      CONNECTIONS_PREFIX + userId,
      DUE,
      ONLINE,
      VERSIONS,
      connectionId,
      expiresAt,
      userId,
      graceMs,
    ] as const;

  return {
    kind: 'redis',
    async connect(userId, connectionId, expiresAt) {
      const version = Number(
        await guard.run(
          'presence connect',
          () => redis.eval(CONNECT, 4, ...connectArgs(userId, connectionId, expiresAt)),
          background,
        ),
      );
      return version > 0 ? { userId, version } : null;
    },
    async disconnect(userId, connectionId, now) {
      await guard.run(
        'presence disconnect',
        () =>
          redis
            .multi()
            .zrem(CONNECTIONS_PREFIX + userId, connectionId)
            .zadd(DUE, now + graceMs, userId)
            .exec(),
        background,
      );
    },
    async renew(list, expiresAt) {
      if (list.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const { userId, connectionId } of list) {
        pipeline.eval(CONNECT, 4, ...connectArgs(userId, connectionId, expiresAt));
      }
      const results = (await guard.run('presence renew', () => pipeline.exec(), background)) ?? [];
      const back: PresenceChange[] = [];
      results.forEach(([err, version], i) => {
        if (!err && Number(version) > 0) {
          back.push({ userId: list[i]!.userId, version: Number(version) });
        }
      });
      return back;
    },
    async online(userIds) {
      if (userIds.length === 0) return new Set();
      const flags = await guard.run('presence lookup', () => redis.smismember(ONLINE, ...userIds));
      return new Set(userIds.filter((_, i) => flags[i] === 1));
    },
    async sweep(now) {
      const flat = (await guard.run(
        'presence sweep',
        () => redis.eval(SWEEP, 3, DUE, ONLINE, VERSIONS, now, graceMs, CONNECTIONS_PREFIX),
        background,
      )) as (string | number)[];
      const offline: PresenceChange[] = [];
      for (let i = 0; i < flat.length; i += 3) {
        offline.push({
          userId: String(flat[i]),
          version: Number(flat[i + 1]),
          lastSeenAt: Number(flat[i + 2]) - graceMs,
        });
      }
      return offline;
    },
    async close() {
      guard.stop();
      redis.disconnect();
    },
  };
}
