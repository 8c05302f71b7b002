// Instance-wide helpers for live subscriptions: they batch what many subscribers ask at once.
import DataLoader from 'dataloader';
import type { Database } from './client.js';
import { advanceDeliveredMany, findContactPairs, findMemberships } from './conversations.js';

export interface MembershipKey {
  conversationId: string;
  userId: string;
}

/**
 * "Is this user (still) a member?", asked for every event delivered. Not cached: the answer must
 * be current; batched: subscribers handling one event together cost one statement.
 */
export function createMembershipChecker(db: Database): DataLoader<MembershipKey, boolean, string> {
  return new DataLoader(
    async (keys) => {
      const found = await findMemberships(db, keys);
      return keys.map((k) => found.has(`${k.conversationId}:${k.userId}`));
    },
    { cache: false, maxBatchSize: 1_000 },
  );
}

export interface DeliveryRecorder {
  /** Notes that a message was pushed to a member's connection; written in batches. */
  record(conversationId: string, userId: string, seq: number): void;
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export function createDeliveryRecorder(
  db: Database,
  onError: (err: unknown) => void,
  intervalMs = 200,
): DeliveryRecorder {
  // Conversation → member → newest seq pushed: an event recorded for each of a thousand local
  // subscribers of a room is a lookup and a number stored, with no key or row built per member.
  let pending = new Map<string, Map<string, number>>();
  let running: Promise<void> = Promise.resolve();
  const flush = () => {
    if (pending.size === 0) return running;
    const rows: { conversationId: string; userId: string; seq: number }[] = [];
    for (const [conversationId, members] of pending) {
      for (const [userId, seq] of members) rows.push({ conversationId, userId, seq });
    }
    pending = new Map();
    running = running.then(() => advanceDeliveredMany(db, rows)).catch(onError);
    return running;
  };
  const timer = setInterval(() => void flush(), intervalMs);
  timer.unref();
  return {
    record(conversationId, userId, seq) {
      let members = pending.get(conversationId);
      if (!members) pending.set(conversationId, (members = new Map()));
      const current = members.get(userId);
      if (current === undefined || current < seq) members.set(userId, seq);
    },
    flush,
    async stop() {
      clearInterval(timer);
      await flush();
    },
  };
}

export interface ContactKey {
  viewerId: string;
  userId: string;
}

/** "Does the viewer share a conversation with this user now?" Batched, never cached. */
export function createContactChecker(db: Database): DataLoader<ContactKey, boolean, string> {
  return new DataLoader(
    async (keys) => {
      const found = await findContactPairs(db, keys);
      return keys.map((k) => k.viewerId === k.userId || found.has(`${k.viewerId}:${k.userId}`));
    },
    { cache: false, maxBatchSize: 1_000, cacheKeyFn: (k) => `${k.viewerId}:${k.userId}` },
  );
}
