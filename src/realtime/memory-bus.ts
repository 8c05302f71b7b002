import { PubSub } from 'graphql-subscriptions';
import type { EventBus } from './bus.js';
import type { BusEvent } from './events.js';

/** One instance, in process. Events are JSON round-tripped so they look exactly as over Redis. */
export function createMemoryBus(): EventBus {
  const pubsub = new PubSub<Record<string, string>>();
  return {
    kind: 'memory',
    async publish(topic, event) {
      await pubsub.publish(topic, JSON.stringify(event));
    },
    async subscribe(topic, onEvent) {
      const id = await pubsub.subscribe(topic, (text: string) =>
        onEvent(JSON.parse(text) as BusEvent),
      );
      return () => pubsub.unsubscribe(id);
    },
    onReconnect: () => () => {},
    ping: async () => true,
    close: async () => {},
  };
}
