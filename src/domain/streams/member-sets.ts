// Who is in the conversations this instance's streams follow, kept here so that authorizing an
// event for N local subscribers is a set lookup, not a query per event. A set is trusted while
// it is at least as new as what an event says: every change of the member set bumps the
// conversation's member_version in its own transaction and announces it (a `members` event,
// through the outbox like messages), and every message event carries the version it was sent
// under. A message sent after a removal therefore never meets a set from before it: the set is
// reloaded first. After a broker reconnect (events may have been missed) every set is reloaded
// on its next use.
import DataLoader from 'dataloader';

export interface MemberSet {
  readonly version: number;
  readonly userIds: ReadonlySet<string>;
}

export type LoadMemberSets = (
  conversationIds: readonly string[],
) => Promise<Map<string, MemberSet>>;

export interface MemberSets {
  /** Keeps the set of this conversation while a local stream follows it; call to let go. */
  retain(conversationId: string): () => void;
  /**
   * Whether the user is a member, from the kept set when it is known and at least `version`
   * (synchronously), else after (re)loading it. Unretained conversations are read each time.
   */
  isMember(conversationId: string, userId: string, version?: number): boolean | Promise<boolean>;
  /** The kept set, when it is known and current. */
  known(conversationId: string): MemberSet | null;
  /**
   * A change committed with `version` (absent: unknown): reload before the next answer, unless
   * the change is given (`added`, `removed`) and the kept set is the one just before it, at
   * `version - 1`, with no load under way: then it is applied as it is.
   */
  invalidate(
    conversationId: string,
    version?: number,
    change?: { added?: readonly string[]; removed?: readonly string[] },
  ): void;
  /** The broker reconnected: any change may have been missed. */
  invalidateAll(): void;
}

interface Entry {
  refs: number;
  set: MemberSet | null;
  /** False once a change was announced that `set` may not include: reload before answering. */
  fresh: boolean;
  /** Counts announcements, so a load that raced one is not taken as fresh. */
  generation: number;
  loading: Promise<void> | null;
}

const NONE: MemberSet = Object.freeze({ version: -1, userIds: new Set<string>() });

export function createMemberSets(load: LoadMemberSets): MemberSets {
  const entries = new Map<string, Entry>();
  // Conversations (re)loading at the same moment (a stream following all of a user's) share a
  // statement.
  const loader = new DataLoader<string, MemberSet>(
    async (ids) => {
      const found = await load(ids);
      return ids.map((id) => found.get(id) ?? NONE);
    },
    { cache: false, maxBatchSize: 500 },
  );

  const current = (entry: Entry, version: number | undefined): MemberSet | null => {
    const set = entry.set;
    if (!set || !entry.fresh) return null;
    return version === undefined || set.version >= version ? set : null;
  };

  const reload = (conversationId: string, entry: Entry): Promise<void> => {
    const generation = entry.generation;
    entry.loading ??= loader
      .load(conversationId)
      .then((set) => {
        entry.set = set;
        entry.fresh = entry.generation === generation;
      })
      .finally(() => {
        entry.loading = null;
      });
    return entry.loading;
  };

  return {
    retain(conversationId) {
      let entry = entries.get(conversationId);
      if (!entry) {
        entry = { refs: 0, set: null, fresh: false, generation: 0, loading: null };
        entries.set(conversationId, entry);
      }
      entry.refs++;
      const held = entry;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        if (--held.refs === 0 && entries.get(conversationId) === held) {
          entries.delete(conversationId);
        }
      };
    },

    isMember(conversationId, userId, version) {
      const entry = entries.get(conversationId);
      if (!entry) return loader.load(conversationId).then((set) => set.userIds.has(userId));
      const set = current(entry, version);
      if (set) return set.userIds.has(userId);
      const ask = async (): Promise<boolean> => {
        // A change announced while loading (or a version the load did not reach yet) reloads.
        for (let attempt = 0; attempt < 3; attempt++) {
          await reload(conversationId, entry);
          const fresh = current(entry, version);
          if (fresh) return fresh.userIds.has(userId);
        }
        return entry.set?.userIds.has(userId) ?? false;
      };
      return ask();
    },

    known(conversationId) {
      const entry = entries.get(conversationId);
      return entry ? current(entry, undefined) : null;
    },

    invalidate(conversationId, version, change) {
      const entry = entries.get(conversationId);
      if (!entry) return;
      if (entry.set && version !== undefined && entry.set.version >= version) return;
      const set = entry.set;
      if (
        set &&
        entry.fresh &&
        !entry.loading &&
        version !== undefined &&
        set.version === version - 1 &&
        (change?.added || change?.removed)
      ) {
        // The very next change, and nothing loading that could land an older set over it.
        const userIds = new Set(set.userIds);
        for (const id of change.added ?? []) userIds.add(id);
        for (const id of change.removed ?? []) userIds.delete(id);
        entry.set = { version, userIds };
        return;
      }
      entry.fresh = false;
      entry.generation++;
    },

    invalidateAll() {
      for (const entry of entries.values()) {
        entry.fresh = false;
        entry.generation++;
      }
    },
  };
}
