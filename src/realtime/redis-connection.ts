// One place that turns the Redis settings into ioredis clients: a single server (REDIS_URL), a
// master found through Redis Sentinel, or a Redis Cluster. Every Redis user (bus, presence, rate
// limits) asks here, so the three topologies are chosen in one place.
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisTopology } from '../config.js';

/** The options of one connection that the Redis users set (the rest are ioredis defaults). */
export type ConnectionOptions = Pick<
  RedisOptions,
  | 'enableOfflineQueue'
  | 'maxRetriesPerRequest'
  | 'autoResendUnfulfilledCommands'
  | 'retryStrategy'
  | 'lazyConnect'
>;

/** How long a connection attempt may take before it counts as failed (every call has a deadline). */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * A client for a single server or a Sentinel-watched master: a plain ioredis `Redis`. With
 * Sentinel, ioredis asks the sentinels for the master on every (re)connect and checks its ROLE,
 * so after a failover the next reconnect finds the promoted replica.
 */
export function createRedisServerClient(
  topology: Exclude<RedisTopology, { kind: 'cluster' }>,
  options: ConnectionOptions,
): Redis {
  if (topology.kind === 'single') return new Redis(topology.url, options);
  return new Redis({
    sentinels: topology.sentinels.map(({ host, port }) => ({ host, port })),
    name: topology.name,
    ...topology.auth,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // Asking a sentinel also has a deadline (a hung sentinel is skipped for the next one).
    sentinelCommandTimeout: CONNECT_TIMEOUT_MS,
    // While no sentinel knows a master yet (mid-failover), keep asking.
    sentinelRetryStrategy: (times: number) => Math.min(times * 100, 1_000),
    ...options,
  });
}

/**
 * A Redis Cluster client. The cluster-wide options map to the per-node ones ioredis applies to
 * each node's connection; a command meeting a node that went away is retried on the slot's new
 * owner after the slots are read again (a failover), until `maxRedirections` is used up.
 */
export function createRedisClusterClient(
  topology: Extract<RedisTopology, { kind: 'cluster' }>,
  options: ConnectionOptions & Pick<ClusterOptions, 'enableAutoPipelining'>,
): Cluster {
  const { enableOfflineQueue, retryStrategy, lazyConnect, enableAutoPipelining, ...perNode } =
    options;
  return new Cluster(
    topology.nodes.map(({ host, port }) => ({ host, port })),
    {
      redisOptions: { connectTimeout: CONNECT_TIMEOUT_MS, ...topology.auth, ...perNode },
      ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
      ...(lazyConnect === undefined ? {} : { lazyConnect }),
      ...(enableAutoPipelining === undefined ? {} : { enableAutoPipelining }),
      clusterRetryStrategy: retryStrategy ?? ((times: number) => Math.min(times * 100, 2_000)),
      // The slot map is read again on MOVED and when a node is lost; also every few seconds, so
      // a failover nobody's command ran into yet is noticed.
      slotsRefreshInterval: 5_000,
      slotsRefreshTimeout: 1_000,
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 200,
    },
  );
}

/** Either kind of client, for code that only pings, watches status or disconnects. */
export type RedisClient = Redis | Cluster;

export function createRedisClient(
  topology: RedisTopology,
  options: ConnectionOptions,
): RedisClient {
  return topology.kind === 'cluster'
    ? createRedisClusterClient(topology, options)
    : createRedisServerClient(topology, options);
}
