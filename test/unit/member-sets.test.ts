// The member sets an instance keeps (src/domain/streams/member-sets.ts): a small change announced
// right after the version it holds is applied without reloading; anything else reloads.
import { describe, expect, it } from 'vitest';
import { createMemberSets, type MemberSet } from '../../src/domain/streams/member-sets.js';

function fakeStore(initial: Record<string, string[]>, version = 1) {
  const sets = new Map<string, MemberSet>(
    Object.entries(initial).map(([id, users]) => [id, { version, userIds: new Set(users) }]),
  );
  let loads = 0;
  return {
    sets,
    loads: () => loads,
    load: async (ids: readonly string[]) => {
      loads++;
      return new Map(ids.flatMap((id) => (sets.has(id) ? [[id, sets.get(id)!] as const] : [])));
    },
    commit(id: string, change: { added?: string[]; removed?: string[] }) {
      const set = sets.get(id)!;
      const userIds = new Set(set.userIds);
      for (const u of change.added ?? []) userIds.add(u);
      for (const u of change.removed ?? []) userIds.delete(u);
      sets.set(id, { version: set.version + 1, userIds });
      return set.version + 1;
    },
  };
}

describe('member sets', () => {
  it('applies the next change as announced, without a reload', async () => {
    const store = fakeStore({ c: ['ann', 'bob'] });
    const sets = createMemberSets(store.load);
    sets.retain('c');
    expect(await sets.isMember('c', 'ann')).toBe(true);
    expect(store.loads()).toBe(1);
    const v2 = store.commit('c', { added: ['cat'], removed: ['ann'] });
    sets.invalidate('c', v2, { added: ['cat'], removed: ['ann'] });
    // Answered at once (synchronously) from the kept set, at the new version.
    expect(sets.isMember('c', 'cat', v2)).toBe(true);
    expect(sets.isMember('c', 'ann', v2)).toBe(false);
    expect(sets.isMember('c', 'bob', v2)).toBe(true);
    expect(store.loads()).toBe(1);
  });

  it('reloads when a change was missed, when none is given, or when a load is under way', async () => {
    const store = fakeStore({ c: ['ann', 'bob'] });
    const sets = createMemberSets(store.load);
    sets.retain('c');
    await sets.isMember('c', 'ann');
    // Version 2 was never announced here: the change of version 3 cannot be applied.
    store.commit('c', { removed: ['bob'] });
    const v3 = store.commit('c', { added: ['cat'] });
    sets.invalidate('c', v3, { added: ['cat'] });
    expect(await sets.isMember('c', 'bob', v3)).toBe(false);
    expect(store.loads()).toBe(2);
    // A big change travels without its list: reload.
    const v4 = store.commit('c', { added: ['dan'] });
    sets.invalidate('c', v4);
    expect(await sets.isMember('c', 'dan', v4)).toBe(true);
    expect(store.loads()).toBe(3);
    // An event older than the kept set changes nothing.
    sets.invalidate('c', v3, { removed: ['dan'] });
    expect(sets.isMember('c', 'dan')).toBe(true);
    // A change announced while a reload is under way is not applied over it.
    sets.invalidateAll();
    const loading = sets.isMember('c', 'ann');
    const v5 = store.commit('c', { removed: ['dan'] });
    sets.invalidate('c', v5, { removed: ['dan'] });
    await loading;
    expect(await sets.isMember('c', 'dan', v5)).toBe(false);
  });
});
