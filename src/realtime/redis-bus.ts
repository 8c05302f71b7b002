import { RedisPubSub } from 'graphql-redis-subscriptions';
import type { RedisTopology } from '../config.js';
import type { Logger } from '../logger.js';
import type { EventBus } from './bus.js';
import { createRedisServerClient } from './redis-connection.js';
import { guardRedis, hungAfterMs } from './redis-deadline.js';
import { createTopicListeners } from './topic-listeners.js';

/**
 * Redis pub/sub through graphql-redis-subscriptions, which SUBSCRIBEs a channel once per process
 * and UNSUBSCRIBEs it with the last listener. The publisher fails fast while Redis is away or
 * hung (no offline queue, a deadline per call): the outbox keeps the event and publishes it
 * later. A hung subscriber connection is found by its heartbeat and dialled again; once it is
 * ready, listeners catch up from the database. With Sentinel, a reconnect asks the sentinels
 * for the master, so after a failover both connections find the promoted replica by themselves
 * (and the subscriber's 'ready' starts the same catch-up).
 */
export function createRedisBus(
  topology: Exclude<RedisTopology, { kind: 'cluster' }>,
  keyPrefix: string,
  logger: Logger,
  opts: { commandTimeoutMs: number },
): EventBus {
  const retryStrategy = (times: number) => Math.min(times * 100, 2_000);
  const publisher = createRedisServerClient(topology, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // A publish that missed its deadline is in the outbox already: not sent again on reconnect.
    autoResendUnfulfilledCommands: false,
    retryStrategy,
    lazyConnect: false,
  });
  const subscriber = createRedisServerClient(topology, {
    retryStrategy,
    maxRetriesPerRequest: null,
  });
  const deadlineMs = opts.commandTimeoutMs;
  const publishing = guardRedis(publisher, { name: 'publisher', deadlineMs, logger });
  const subscribing = guardRedis(subscriber, { name: 'subscriber', deadlineMs, logger });
  for (const [name, client] of [
    ['publisher', publisher],
    ['subscriber', subscriber],
  ] as const) {
    client.on('error', (err: Error) =>
      logger.warn({ err: err.message, client: name }, 'redis error'),
    );
  }
  const pubsub = new RedisPubSub({
    publisher,
    subscriber,
    // Events are published as JSON text (see flushPublishes) and parsed once per instance.
    deserializer: (text: string | Buffer) => JSON.parse(text.toString()) as unknown,
  });

  // One listener per topic at graphql-redis-subscriptions; this instance's own go in a set.
  const listeners = createTopicListeners(async (topic, dispatch) => {
    const id = await pubsub.subscribe(keyPrefix + topic, dispatch);
    return () => pubsub.unsubscribe(id);
  });

  const reconnectListeners = new Set<() => void>();
  let wasReady = false;
  subscriber.on('ready', () => {
    // ioredis re-subscribes every channel right after 'ready'; what was published meanwhile is
    // gone. A PING queued behind those SUBSCRIBEs answers once they are in force: catch up then.
    if (wasReady) {
      setImmediate(() => {
        void subscriber
          .ping()
          .catch(() => undefined)
          .then(() => {
            logger.info('redis subscriber reconnected; catching up from the database');
            for (const listener of reconnectListeners) listener();
          });
      });
    }
    wasReady = true;
  });

  // The publishes of one turn of the event loop (a batch of sends committed together, answers
  // that arrived together) go to Redis as one pipeline: one write instead of one each.
  let gathered: {
    channel: string;
    message: string;
    resolve: () => void;
    reject: (err: unknown) => void;
  }[] = [];
  const flushPublishes = () => {
    const batch = gathered;
    gathered = [];
    const pipeline = publisher.pipeline();
    for (const p of batch) pipeline.publish(p.channel, p.message);
    pipeline.exec().then(
      (results) =>
        batch.forEach((p, i) => {
          const err = results?.[i]?.[0] ?? (results ? null : new Error('publish not sent'));
          if (err) p.reject(err);
          else p.resolve();
        }),
      (err: unknown) => batch.forEach((p) => p.reject(err)),
    );
  };

  return {
    kind: 'redis',
    async publish(topic, event) {
      // No request waits for a publish (it follows the commit, and a failed one stays in the
      // outbox), so it is given as long as a connection has before it counts as hung.
      await publishing.run(
        'publish',
        () =>
          new Promise<void>((resolve, reject) => {
            if (gathered.length === 0) setImmediate(flushPublishes);
            gathered.push({
              channel: keyPrefix + topic,
              message: JSON.stringify(event),
              resolve,
              reject,
            });
          }),
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
      publishing.stop();
      subscribing.stop();
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
