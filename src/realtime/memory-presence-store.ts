import type { PresenceChange, PresenceStore } from './presence-store.js';

/** One instance, in process: the same rules as the Redis store, on maps. */
export function createMemoryPresenceStore(graceMs: number): PresenceStore {
  const connections = new Map<string, Map<string, number>>(); // user → connection → expiresAt
  const due = new Map<string, number>(); // user → when to decide
  const online = new Set<string>();
  const versions = new Map<string, number>();

  const scheduleAtLeast = (userId: string, at: number) => {
    due.set(userId, Math.max(due.get(userId) ?? 0, at));
  };
  const bump = (userId: string) => {
    const version = (versions.get(userId) ?? 0) + 1;
    versions.set(userId, version);
    return version;
  };
  const add = (userId: string, connectionId: string, expiresAt: number): PresenceChange | null => {
    let mine = connections.get(userId);
    if (!mine) connections.set(userId, (mine = new Map()));
    mine.set(connectionId, expiresAt);
    scheduleAtLeast(userId, expiresAt + graceMs);
    if (online.has(userId)) return null;
    online.add(userId);
    return { userId, version: bump(userId) };
  };

  return {
    kind: 'memory',
    async connect(userId, connectionId, expiresAt) {
      return add(userId, connectionId, expiresAt);
    },
    async disconnect(userId, connectionId, now) {
      connections.get(userId)?.delete(connectionId);
      due.set(userId, now + graceMs);
    },
    async renew(list, expiresAt) {
      const back: PresenceChange[] = [];
      for (const { userId, connectionId } of list) {
        const change = add(userId, connectionId, expiresAt);
        if (change) back.push(change);
      }
      return back;
    },
    async online(userIds) {
      return new Set(userIds.filter((id) => online.has(id)));
    },
    async sweep(now) {
      const offline: PresenceChange[] = [];
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
        if (online.delete(userId)) {
          offline.push({ userId, version: bump(userId), lastSeenAt: at - graceMs });
        }
      }
      return offline;
    },
    close: async () => {},
  };
}
