// The local side of a topic: one subscription to the broker per topic, however many listeners
// this instance has on it, and each event handed to them in one loop over a set. (The broker
// clients keep their own per-listener tables: graphql-redis-subscriptions looks each listener up
// by id in an object and unpacks an array per call, EventEmitter copies its listener array per
// emit, which for a room with a thousand local subscribers is a thousand of each per event.)
import type { Unsubscribe } from './bus.js';

type Listener = (event: unknown) => void;

interface Entry {
  readonly listeners: Set<Listener>;
  /** The broker subscription: resolves once it is in force. */
  readonly subscribed: Promise<Unsubscribe>;
}

/**
 * `subscribeOnce(topic, dispatch)` subscribes the broker; it is called for a topic's first
 * listener, and its unsubscribe runs with the last one.
 */
export function createTopicListeners(
  subscribeOnce: (topic: string, dispatch: Listener) => Promise<Unsubscribe>,
) {
  const entries = new Map<string, Entry>();

  return {
    /** Resolves once the topic is subscribed (events published after that reach `listener`). */
    async subscribe(topic: string, listener: Listener): Promise<Unsubscribe> {
      let entry = entries.get(topic);
      if (!entry) {
        const listeners = new Set<Listener>();
        const subscribed = subscribeOnce(topic, (event) => {
          for (const l of listeners) l(event);
        });
        const created: Entry = { listeners, subscribed };
        entry = created;
        entries.set(topic, created);
        // A failed subscription is forgotten, so the next listener tries again.
        subscribed.catch(() => {
          if (entries.get(topic) === created) entries.delete(topic);
        });
      }
      const held = entry;
      held.listeners.add(listener);
      try {
        await held.subscribed;
      } catch (err) {
        held.listeners.delete(listener);
        throw err;
      }
      // Kept by every subscription for as long as it runs: it holds no more than it needs.
      return () => {
        if (!held.listeners.delete(listener)) return;
        if (held.listeners.size > 0 || entries.get(topic) !== held) return;
        entries.delete(topic);
        void held.subscribed.then((unsubscribe) => unsubscribe()).catch(() => undefined);
      };
    },
  };
}
