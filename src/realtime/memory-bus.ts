import { EventEmitter } from 'node:events';
import { PubSub } from 'graphql-subscriptions';
import type { EventBus } from './bus.js';
import type { BusEvent } from './events.js';
import { createTopicListeners } from './topic-listeners.js';

/**
 * One instance, in process. Each event is JSON round-tripped once, so listeners get what they
 * would get over Redis (dates as strings) and one shared copy, however many they are.
 */
export function createMemoryBus(): EventBus {
  const eventEmitter = new EventEmitter().setMaxListeners(0);
  const pubsub = new PubSub<Record<string, BusEvent>>({ eventEmitter });
  // One emitter listener per topic; this instance's own go in a set (topic-listeners.ts).
  const listeners = createTopicListeners(async (topic, dispatch) => {
    const id = await pubsub.subscribe(topic, dispatch);
    return () => pubsub.unsubscribe(id);
  });
  return {
    kind: 'memory',
    async publish(topic, event) {
      await pubsub.publish(topic, JSON.parse(JSON.stringify(event)) as BusEvent);
    },
    subscribe: (topic, onEvent) => listeners.subscribe(topic, onEvent as (event: unknown) => void),
    onReconnect: () => () => {},
    ping: async () => true,
    close: async () => {},
  };
}
