import { Redis } from 'ioredis';
import type { RedisTopology } from '../config.js';
import type { Logger } from '../logger.js';
import type { EventBus } from './bus.js';
import { createRedisClusterClient } from './redis-connection.js';
import { guardRedis, hungAfterMs, withDeadline, type RedisGuard } from './redis-deadline.js';
import { hashSlot } from './redis-keys.js';
import { createTopicListeners } from './topic-listeners.js';

/** How long a new subscription may wait for its shard (it may be failing over). */
const SUBSCRIBE_DEADLINE_MS = 10_000;
/** How often a lost shard makes the slot map be read again, until its replica has taken over. */
const FAILOVER_POLL_MS = 250;
/**
 * A master that said its channels moved (an unsolicited SUNSUBSCRIBE, or MOVED to an
 * SSUBSCRIBE) while the slot map still names it: after this long, its channels are subscribed
 * on it again, so no channel is left unsubscribed by a signal the map never confirmed.
 */
const MOVED_LIMIT_MS = 5_000;

/** One master's subscriber connection and the shard channels this instance holds on it. */
interface Shard {
  readonly nodeKey: string;
  readonly redis: Redis;
  readonly guard: RedisGuard;
  readonly channels: Set<string>;
  /** Since when the master has said its channels moved, not yet seen in the slot map. */
  movedSince: number | undefined;
}

/**
 * Pub/sub over Redis Cluster with sharded pub/sub (Redis 7): a topic is a shard channel,
 * SPUBLISHed to and SSUBSCRIBEd on the master that owns its hash slot, so an event travels to
 * one shard and its replicas instead of every node of the cluster (as PUBLISH does).
 *
 * The slot map is the publishing Cluster client's. Each master this instance listens to gets
 * one subscriber connection. When one is lost, the slot map is read again every
 * FAILOVER_POLL_MS until a replica owns its slots; its channels are then subscribed on the new
 * master and, once Redis confirmed each, listeners catch up from the database (what was
 * published in between went to a dead node). The same happens when a connection comes back by
 * itself (ioredis subscribes its channels again). Publishes keep the single-server rules: no
 * offline queue, a deadline each; a failed one stays in the outbox.
 */
export function createRedisClusterBus(
  topology: Extract<RedisTopology, { kind: 'cluster' }>,
  keyPrefix: string,
  logger: Logger,
  opts: { commandTimeoutMs: number },
): EventBus {
  const deadlineMs = opts.commandTimeoutMs;
  const publisher = createRedisClusterClient(topology, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // A publish that missed its deadline is in the outbox already: not sent again on reconnect.
    autoResendUnfulfilledCommands: false,
    // The publishes of one turn of the event loop go to each master as one write.
    enableAutoPipelining: true,
  });
  publisher.on('error', (err: Error) =>
    logger.warn({ err: err.message, client: 'publisher' }, 'redis cluster error'),
  );
  const publishing = guardRedis(publisher, { name: 'publisher', deadlineMs, logger });

  /** channel → what this instance does with its events (one entry per subscribed topic). */
  const handlers = new Map<string, (event: unknown) => void>();
  /** channel → the shard it is subscribed on. */
  const placed = new Map<string, Shard>();
  /** channel → its hash slot, computed once (the slot map is checked on every refresh). */
  const slots = new Map<string, number>();
  const shards = new Map<string, Shard>();
  const reconnectListeners = new Set<() => void>();
  let closed = false;

  const catchUp = (why: string) => {
    logger.info({ why }, 'redis cluster subscriptions restored; catching up from the database');
    for (const listener of reconnectListeners) listener();
  };

  const shardFor = (nodeKey: string): Shard => {
    const known = shards.get(nodeKey);
    if (known) return known;
    const at = nodeKey.lastIndexOf(':');
    const redis = new Redis({
      host: nodeKey.slice(0, at),
      port: Number(nodeKey.slice(at + 1)),
      ...topology.auth,
      connectTimeout: 5_000,
      maxRetriesPerRequest: null,
      retryStrategy: (times: number) => Math.min(times * 100, 1_000),
    });
    const shard: Shard = {
      nodeKey,
      redis,
      guard: guardRedis(redis, { name: `subscriber ${nodeKey}`, deadlineMs, logger }),
      channels: new Set(),
      movedSince: undefined,
    };
    // Redis unsubscribes a shard's clients when the slot leaves the node (a failover that
    // demoted it, a migration): read the slot map again, and move (see reconcile).
    redis.on('moved', () => {
      shard.movedSince ??= Date.now();
      publisher.refreshSlotsCache();
    });
    redis.on('error', (err: Error) =>
      logger.warn({ err: err.message, node: nodeKey }, 'redis cluster subscriber error'),
    );
    redis.on('smessage', (channel: string, message: string) => {
      // A channel being moved to another master may still hear from the old one: one source.
      if (placed.get(channel) !== shard) return;
      const handler = handlers.get(channel);
      if (handler) handler(JSON.parse(message) as unknown);
    });
    let wasReady = false;
    redis.on('ready', () => {
      // The same master back (a blip, not a failover): ioredis re-subscribed its channels right
      // after 'ready'; a PING queued behind them answers once they are in force.
      if (wasReady && shard.channels.size > 0) {
        void redis
          .ping()
          .catch(() => undefined)
          .then(() => catchUp(`subscriber ${nodeKey} reconnected`));
      }
      wasReady = true;
    });
    shards.set(nodeKey, shard);
    return shard;
  };

  const dropShard = (shard: Shard) => {
    shard.guard.stop();
    shard.redis.disconnect();
    shards.delete(shard.nodeKey);
  };

  /** The master that owns a channel's slot, once the slot map is known. */
  const ownerOf = (channel: string): string | undefined => {
    let slot = slots.get(channel);
    if (slot === undefined) slots.set(channel, (slot = hashSlot(channel)));
    return publisher.slots[slot]?.[0];
  };

  const clusterReady = (): Promise<void> =>
    publisher.status === 'ready'
      ? Promise.resolve()
      : new Promise((resolve) => publisher.once('ready', () => resolve()));

  async function place(channel: string): Promise<void> {
    await clusterReady();
    const owner = ownerOf(channel);
    if (!owner) throw new Error(`no master owns the slot of ${channel}`);
    const shard = shardFor(owner);
    placed.set(channel, shard);
    shard.channels.add(channel);
    try {
      await shard.redis.ssubscribe(channel);
    } catch (err) {
      // Asked of a master that died meanwhile: its channels moved on (see reconcile), and the
      // subscription is in force once the new master confirms it.
      const now = placed.get(channel);
      if (!now || now === shard) throw err;
      await now.redis.ssubscribe(channel);
    }
  }

  // After every read of the slot map: channels whose slot now has another master (a replica
  // promoted, a slot migrated) are subscribed there.
  let reconciling = false;
  async function reconcile(): Promise<void> {
    if (reconciling || closed) return;
    reconciling = true;
    try {
      const moves: [string, Shard, string][] = [];
      for (const [channel, shard] of placed) {
        const owner = ownerOf(channel);
        if (owner && owner !== shard.nodeKey) moves.push([channel, shard, owner]);
      }
      for (const [, from] of moves) from.movedSince = undefined;
      if (moves.length === 0) return;
      const subscribed = moves.map(([channel, from, owner]) => {
        from.channels.delete(channel);
        if (from.redis.status === 'ready') from.redis.sunsubscribe(channel).catch(() => undefined);
        const to = shardFor(owner);
        placed.set(channel, to);
        to.channels.add(channel);
        // One command per channel: SSUBSCRIBE takes channels of one slot only.
        return to.redis.ssubscribe(channel);
      });
      for (const from of new Set(moves.map(([, shard]) => shard))) {
        if (from.channels.size === 0) dropShard(from);
      }
      const results = await Promise.allSettled(subscribed);
      const failed = results.filter((r) => r.status === 'rejected').length;
      if (failed > 0) logger.warn({ failed }, 'redis cluster resubscribe failed for some channels');
      logger.warn(
        { channels: moves.length, to: [...new Set(moves.map(([, , owner]) => owner))] },
        'redis cluster channels moved to a new master',
      );
      catchUp('channels moved to a new master');
    } finally {
      reconciling = false;
    }
  }
  publisher.on('refresh', () => void reconcile());

  // While a master that holds channels is unreachable, read the slot map again and again: its
  // replica takes over within a few node timeouts, and the move above follows.
  const failoverWatch = setInterval(() => {
    let refresh = false;
    for (const shard of shards.values()) {
      if (shard.channels.size === 0) {
        // Nothing to listen to on a master that is gone: stop dialling it.
        if (shard.redis.status !== 'ready') dropShard(shard);
        continue;
      }
      if (shard.redis.status !== 'ready') refresh = true;
      else if (shard.movedSince !== undefined) {
        if (Date.now() - shard.movedSince < MOVED_LIMIT_MS) refresh = true;
        else {
          shard.movedSince = undefined;
          for (const channel of shard.channels) {
            shard.redis.ssubscribe(channel).catch(() => undefined);
          }
          void shard.redis
            .ping()
            .then(() => catchUp(`subscriber ${shard.nodeKey} subscribed again`))
            .catch(() => undefined);
        }
      }
    }
    if (refresh) publisher.refreshSlotsCache();
  }, FAILOVER_POLL_MS);
  failoverWatch.unref();

  const listeners = createTopicListeners(async (topic, dispatch) => {
    const channel = keyPrefix + topic;
    handlers.set(channel, dispatch);
    try {
      await withDeadline(place(channel), SUBSCRIBE_DEADLINE_MS, `ssubscribe ${topic}`);
    } catch (err) {
      handlers.delete(channel);
      placed.get(channel)?.channels.delete(channel);
      placed.delete(channel);
      slots.delete(channel);
      throw err;
    }
    return () => {
      handlers.delete(channel);
      const shard = placed.get(channel);
      placed.delete(channel);
      slots.delete(channel);
      if (!shard) return;
      shard.channels.delete(channel);
      if (shard.redis.status === 'ready') shard.redis.sunsubscribe(channel).catch(() => undefined);
    };
  });

  return {
    kind: 'redis',
    async publish(topic, event) {
      // As on a single server: no request waits for it, a failed one stays in the outbox.
      await publishing.run(
        'publish',
        () => publisher.spublish(keyPrefix + topic, JSON.stringify(event)),
        hungAfterMs(deadlineMs),
      );
    },
    subscribe: (topic, onEvent) => listeners.subscribe(topic, onEvent as (event: unknown) => void),
    onReconnect(listener) {
      reconnectListeners.add(listener);
      return () => reconnectListeners.delete(listener);
    },
    async ping() {
      try {
        return (await publishing.run('ping', () => publisher.ping())) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      closed = true;
      clearInterval(failoverWatch);
      publishing.stop();
      for (const shard of [...shards.values()]) dropShard(shard);
      publisher.disconnect();
    },
  };
}
