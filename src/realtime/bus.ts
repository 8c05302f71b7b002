// Pub/sub between instances: Redis when REDIS_URL is set, in process otherwise. Each instance
// subscribes a topic once for all its local listeners and drops it with the last one. Typed by
// the topics of realtime/events.ts: a topic only carries its kind of event.
import type { Topic, TopicKind, Topics } from './events.js';

export type Unsubscribe = () => void;

export interface EventBus {
  readonly kind: 'memory' | 'redis';
  /** Resolves once the event is handed to the broker; rejects when it could not be. */
  publish<K extends TopicKind>(topic: Topic<K>, event: Topics[K]): Promise<void>;
  /** Resolves once the topic is subscribed (events published after that are received). */
  subscribe<K extends TopicKind>(
    topic: Topic<K>,
    onEvent: (event: Topics[K]) => void,
  ): Promise<Unsubscribe>;
  /**
   * Called after the connection to the broker came back: events published meanwhile may be
   * lost, so listeners catch up from the database.
   */
  onReconnect(listener: () => void): Unsubscribe;
  /** True when the broker can be reached. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
