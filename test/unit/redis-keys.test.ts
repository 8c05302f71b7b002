import { describe, expect, it } from 'vitest';
import { hashSlot, presenceKeys, rateLimitPrefix } from '../../src/realtime/redis-keys.js';

describe('hashSlot (the slot Redis Cluster puts a key or shard channel on)', () => {
  it('agrees with CLUSTER KEYSLOT of Redis 7', () => {
    // Each answer as `redis-cli cluster keyslot <key>` gave it.
    const slots: [string, number][] = [
      ['foo', 12182],
      ['bar', 5061],
      ['{user1000}.following', 3443],
      ['parley:c:0195a0c1-aaaa', 2000],
      ['{}x', 10595],
      ['a{}{b}', 15033],
      ['{parley:presence}:c:42', 32],
    ];
    for (const [key, slot] of slots) expect(hashSlot(key), key).toBe(slot);
  });

  it('hashes only the hash tag when there is one', () => {
    expect(hashSlot('{room}:a')).toBe(hashSlot('{room}:b'));
    expect(hashSlot('{room}:a')).toBe(hashSlot('room'));
  });
});

describe('presenceKeys', () => {
  it('keeps the names of a single server or Sentinel as they were', () => {
    expect(presenceKeys('parley:', false)).toEqual({
      connectionsPrefix: 'parley:presence:c:',
      due: 'parley:presence:due',
      online: 'parley:presence:on',
      versions: 'parley:presence:v',
    });
  });

  it('puts every presence key of a cluster, a user’s connections included, in one slot', () => {
    const keys = presenceKeys('parley:', true);
    const slot = hashSlot(keys.due);
    for (const key of [
      keys.online,
      keys.versions,
      `${keys.connectionsPrefix}user-1`,
      `${keys.connectionsPrefix}user-2`,
    ]) {
      expect(hashSlot(key), key).toBe(slot);
    }
    // Deployments sharing a cluster under different prefixes are kept apart.
    expect(presenceKeys('other:', true).due).not.toBe(keys.due);
    expect(keys.due.startsWith('{parley:presence}')).toBe(true);
  });
});

describe('rateLimitPrefix', () => {
  it('leaves limits untagged, so different users’ counters spread over the shards', () => {
    const prefix = rateLimitPrefix('parley:', 'sendMessage');
    expect(prefix).toBe('parley:rl:sendMessage');
    const slots = new Set(Array.from({ length: 20 }, (_, i) => hashSlot(`${prefix}:user-${i}`)));
    expect(slots.size).toBeGreaterThan(10);
  });
});
