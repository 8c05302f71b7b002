import { EventEmitter } from 'node:events';
import { PubSub } from 'graphql-subscriptions';
import type { EventBus } from './bus.js';
import type { BusEvent } from './events.js';

/**
 * One instance, in process. Each event is JSON round-tripped once, so listeners get what they
 * would get over Redis (dates as strings) and one shared copy, however many they are.
 */
export function createMemoryBus(): EventBus {
  // One listener per local subscriber of a topic: a group of thousands is normal, not a leak.
  const eventEmitter = new EventEmitter().setMaxListeners(0);
  const pubsub = new PubSub<Record<string, BusEvent>>({ eventEmitter });
  return {
    kind: 'memory',
    async publish(topic, event) {
      await pubsub.publish(topic, JSON.parse(JSON.stringify(event)) as BusEvent);
    },
    async subscribe(topic, onEvent) {
      const id = await pubsub.subscribe(topic, (event: BusEvent) =>
        onEvent(event as Parameters<typeof onEvent>[0]),
      );
      return () => pubsub.unsubscribe(id);
    },
    onReconnect: () => () => {},
    ping: async () => true,
    close: async () => {},
  };
}
