import type { PresenceStore } from './presence-store.js';

/** One instance, in process: the same rules as the Redis store, on maps. */
export function createMemoryPresenceStore(graceMs: number): PresenceStore {
  const connections = new Map<string, Map<string, number>>(); // user → connection → expiresAt
  const due = new Map<string, number>(); // user → when to decide
  const online = new Set<string>();

  const scheduleAtLeast = (userId: string, at: number) => {
    due.set(userId, Math.max(due.get(userId) ?? 0, at));
  };

  return {
    kind: 'memory',
    async connect(userId, connectionId, expiresAt) {
      let mine = connections.get(userId);
      if (!mine) connections.set(userId, (mine = new Map()));
      mine.set(connectionId, expiresAt);
      scheduleAtLeast(userId, expiresAt + graceMs);
      if (online.has(userId)) return false;
      online.add(userId);
      return true;
    },
    async disconnect(userId, connectionId, now) {
      connections.get(userId)?.delete(connectionId);
      due.set(userId, now + graceMs);
    },
    async renew(list, expiresAt) {
      for (const { userId, connectionId } of list) {
        const mine = connections.get(userId);
        if (!mine?.has(connectionId)) continue;
        mine.set(connectionId, expiresAt);
        scheduleAtLeast(userId, expiresAt + graceMs);
      }
    },
    async online(userIds) {
      return new Set(userIds.filter((id) => online.has(id)));
    },
    async sweep(now) {
      const offline: string[] = [];
      for (const [userId, at] of due) {
        if (at > now) continue;
        due.delete(userId);
        const mine = connections.get(userId);
        let newest = 0;
        for (const [id, expiresAt] of mine ?? []) {
          if (expiresAt <= now) mine!.delete(id);
          else newest = Math.max(newest, expiresAt);
        }
        if (newest > 0) {
          scheduleAtLeast(userId, newest + graceMs);
          continue;
        }
        connections.delete(userId);
        if (online.delete(userId)) offline.push(userId);
      }
      return offline;
    },
    close: async () => {},
  };
}
