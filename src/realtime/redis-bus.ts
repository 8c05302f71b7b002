import { RedisPubSub } from 'graphql-redis-subscriptions';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { EventBus } from './bus.js';

const PUBLISH_TIMEOUT_MS = 2_000;

/**
 * Redis pub/sub through graphql-redis-subscriptions, which SUBSCRIBEs a channel once per process
 * and UNSUBSCRIBEs it with the last listener. The publisher fails fast while Redis is away (no
 * offline queue): the outbox keeps the event and publishes it later.
 */
export function createRedisBus(url: string, keyPrefix: string, logger: Logger): EventBus {
  const retryStrategy = (times: number) => Math.min(times * 100, 2_000);
  const publisher = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy,
    lazyConnect: false,
  });
  const subscriber = new Redis(url, { retryStrategy, maxRetriesPerRequest: null });
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
    // Events are published as JSON text and parsed once per instance.
    serializer: (event: unknown) => JSON.stringify(event),
    deserializer: (text: string | Buffer) => JSON.parse(text.toString()) as unknown,
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

  return {
    kind: 'redis',
    async publish(topic, event) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          pubsub.publish(keyPrefix + topic, event),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error('redis publish timed out')),
              PUBLISH_TIMEOUT_MS,
            );
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    async subscribe(topic, onEvent) {
      const id = await pubsub.subscribe(keyPrefix + topic, (event: unknown) =>
        onEvent(event as Parameters<typeof onEvent>[0]),
      );
      return () => pubsub.unsubscribe(id);
    },
    onReconnect(listener) {
      reconnectListeners.add(listener);
      return () => reconnectListeners.delete(listener);
    },
    async ping() {
      try {
        return (await publisher.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
