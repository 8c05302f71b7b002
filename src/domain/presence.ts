// Presence: who is ONLINE (at least one open WebSocket on any instance) and, for the others,
// when they were last seen. Only contacts — users who share a conversation — may see it.
import { findContactsAmong } from '../db/conversations.js';
import type { Database } from '../db/client.js';
import { findUsersByIds, setLastSeen } from '../db/users.js';
import type { EventBus } from '../realtime/bus.js';
import {
  topics,
  type PresenceEvent,
  type PresencePayload,
  type PresenceStatus,
} from '../realtime/events.js';
import type { PresenceChange, PresenceStore, PresenceTiming } from '../realtime/presence-store.js';
import type { Deps } from './context.js';
import type { LogSink } from './events.js';
import { SerialQueue } from '../realtime/channel.js';

export interface Presence {
  /** A WebSocket of the user opened on this instance. */
  connected(userId: string, connectionId: string): Promise<void>;
  disconnected(userId: string, connectionId: string): Promise<void>;
  /** Current presence of users (visibility is the caller's to check). */
  statusOf(userIds: readonly string[]): Promise<Map<string, PresencePayload>>;
  /**
   * Hands `watcher` each change of the viewer's contacts (judged when the change arrives) until
   * the returned function is called; `failed` when that judgement cannot be made.
   */
  watch(viewerId: string, watcher: PresenceWatcher): Promise<() => void>;
  start(): void;
  /** Stops the timers; this instance's connections are left to expire or be closed. */
  stop(): Promise<void>;
}

export interface PresenceWatcher {
  changed(event: PresenceEvent): void;
  failed(err: unknown): void;
}

export function createPresence(
  db: Database,
  bus: EventBus,
  store: PresenceStore,
  timing: PresenceTiming,
  log: LogSink,
): Presence {
  const local = new Map<string, { userId: string; connectionId: string }>();
  const timers: NodeJS.Timeout[] = [];
  /** OFFLINE changes taken from the store but not yet stored and announced (retried). */
  let pendingOffline: PresenceChange[] = [];

  const announce = async (change: PresenceChange, status: PresenceStatus) => {
    const event: PresenceEvent = {
      type: 'presence',
      userId: change.userId,
      status,
      lastSeenAt:
        change.lastSeenAt !== undefined ? new Date(change.lastSeenAt).toISOString() : null,
      version: change.version,
    };
    await bus.publish(topics.presence, event).catch((err: unknown) => {
      log.warn({ err }, 'presence publish failed');
    });
  };

  /** How long presence changes wait before their judgement is tried again (database away). */
  const JUDGE_RETRY_MS = 1_000;
  const MAX_WAITING_CHANGES = 10_000;
  // Local subscribers by viewer. Changes that arrive together are judged together: one query
  // for which local viewers are contacts of the changed users, so the cost follows the
  // deliveries made, not the users' contact counts.
  const watchers = new Map<string, Set<PresenceWatcher>>();
  let busSubscription: Promise<() => void> | undefined;
  let arrived: PresenceEvent[] = [];
  const judging = new SerialQueue((err) => {
    for (const set of watchers.values()) for (const w of set) w.failed(err);
  });
  let retry: NodeJS.Timeout | undefined;
  const judge = async () => {
    const events = arrived;
    arrived = [];
    const viewers = [...watchers.keys()];
    let pairs: Awaited<ReturnType<typeof findContactsAmong>>;
    try {
      pairs = await findContactsAmong(db, [...new Set(events.map((e) => e.userId))], viewers);
    } catch (err) {
      // The database is away (a restart): the changes wait and are judged once it is back. A
      // store outage pauses presence; it never ends a stream. The newest changes are kept.
      log.warn({ err }, 'presence: contacts unavailable; retrying');
      arrived = [...events, ...arrived].slice(-MAX_WAITING_CHANGES);
      retry ??= setTimeout(() => {
        retry = undefined;
        judging.run(judge);
      }, JUDGE_RETRY_MS);
      retry.unref();
      return;
    }
    const viewersOf = new Map<string, string[]>();
    for (const { userId, viewerId } of pairs) {
      const known = viewersOf.get(userId);
      if (known) known.push(viewerId);
      else viewersOf.set(userId, [viewerId]);
    }
    for (const event of events) {
      for (const viewerId of viewersOf.get(event.userId) ?? []) {
        for (const w of watchers.get(viewerId) ?? []) w.changed(event);
      }
    }
  };
  const onChange = (event: unknown) => {
    if (watchers.size === 0 || (event as PresenceEvent).type !== 'presence') return;
    arrived.push(event as PresenceEvent);
    // Judged a microtask later, so the changes that arrive in the same tick share a statement.
    if (arrived.length === 1 && !retry) judging.run(() => Promise.resolve().then(judge));
  };

  const sweep = async () => {
    const offline = [...pendingOffline, ...(await store.sweep(Date.now()))];
    pendingOffline = offline;
    if (offline.length === 0) return;
    await setLastSeen(
      db,
      offline.map((c) => ({ userId: c.userId, at: new Date(c.lastSeenAt ?? Date.now()) })),
    );
    await Promise.all(offline.map((change) => announce(change, 'OFFLINE')));
    pendingOffline = [];
  };

  const guarded = (what: string, task: () => Promise<void>) => () =>
    void task().catch((err: unknown) => log.warn({ err }, `presence ${what} failed`));

  return {
    async connected(userId, connectionId) {
      local.set(connectionId, { userId, connectionId });
      const change = await store.connect(userId, connectionId, Date.now() + timing.ttlMs);
      if (change) await announce(change, 'ONLINE');
    },
    async disconnected(userId, connectionId) {
      local.delete(connectionId);
      await store.disconnect(userId, connectionId, Date.now());
    },
    async statusOf(userIds) {
      const [online, rows] = await Promise.all([
        store.online(userIds),
        findUsersByIds(db, userIds),
      ]);
      const lastSeen = new Map(rows.map((r) => [r.id, r.lastSeenAt]));
      return new Map(
        userIds.map((userId) => [
          userId,
          online.has(userId)
            ? { userId, status: 'ONLINE' as const, lastSeenAt: null }
            : { userId, status: 'OFFLINE' as const, lastSeenAt: lastSeen.get(userId) ?? null },
        ]),
      );
    },
    async watch(viewerId, watcher) {
      const own = watchers.get(viewerId) ?? new Set();
      watchers.set(viewerId, own.add(watcher));
      const unwatch = () => {
        own.delete(watcher);
        if (own.size === 0 && watchers.get(viewerId) === own) watchers.delete(viewerId);
        if (watchers.size === 0 && busSubscription) {
          const subscription = busSubscription;
          busSubscription = undefined;
          void subscription.then((unsubscribe) => unsubscribe()).catch(() => {});
        }
      };
      busSubscription ??= bus.subscribe(topics.presence, onChange);
      try {
        await busSubscription;
      } catch (err) {
        busSubscription = undefined;
        unwatch();
        throw err;
      }
      return unwatch;
    },
    start() {
      // Renewing also puts back connections the store lost (a Redis restart): those users are
      // ONLINE again, and their contacts are told.
      const renew = guarded('heartbeat', async () => {
        const back = await store.renew([...local.values()], Date.now() + timing.ttlMs);
        await Promise.all(back.map((change) => announce(change, 'ONLINE')));
      });
      timers.push(setInterval(renew, Math.max(200, Math.floor(timing.ttlMs / 3))));
      timers.push(
        setInterval(guarded('sweep', sweep), Math.max(100, Math.min(1_000, timing.graceMs / 2))),
      );
      for (const t of timers) t.unref();
    },
    async stop() {
      for (const t of timers) clearInterval(t);
      timers.length = 0;
      clearTimeout(retry);
    },
  };
}

/**
 * A user's presence as a viewer may see it: only contacts (users who share a conversation) and
 * the user themself; null for anyone else.
 */
export async function visiblePresence(
  deps: Pick<Deps, 'contacts'>,
  viewerId: string | null,
  userId: string,
  load: (userId: string) => Promise<PresencePayload>,
): Promise<PresencePayload | null> {
  if (!viewerId) return null;
  const visible = await deps.contacts.load({ viewerId, userId });
  return visible ? load(userId) : null;
}
