// What instances share besides the database: pub/sub and presence, in Redis when one is set
// (REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS), in process otherwise.
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { EventBus } from './bus.js';
import { createMemoryBus } from './memory-bus.js';
import { createMemoryPresenceStore } from './memory-presence-store.js';
import type { PresenceStore } from './presence-store.js';
import { createRedisBus } from './redis-bus.js';
import { createRedisClusterBus } from './redis-cluster-bus.js';
import { createRedisPresenceStore } from './redis-presence-store.js';

export interface Backplane {
  readonly bus: EventBus;
  readonly presenceStore: PresenceStore;
  close(): Promise<void>;
}

export function createBackplane(
  config: Pick<Config, 'redis' | 'redisKeyPrefix' | 'presenceGraceMs' | 'redisCommandTimeoutMs'>,
  logger: Logger,
): Backplane {
  const { redis, redisKeyPrefix, presenceGraceMs } = config;
  const deadline = { commandTimeoutMs: config.redisCommandTimeoutMs };
  const bus = !redis
    ? createMemoryBus()
    : redis.kind === 'cluster'
      ? createRedisClusterBus(redis, redisKeyPrefix, logger, deadline)
      : createRedisBus(redis, redisKeyPrefix, logger, deadline);
  const presenceStore = redis
    ? createRedisPresenceStore(redis, redisKeyPrefix, presenceGraceMs, logger, deadline)
    : createMemoryPresenceStore(presenceGraceMs);
  return {
    bus,
    presenceStore,
    async close() {
      await bus.close();
      await presenceStore.close();
    },
  };
}
