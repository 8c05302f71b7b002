// The presence rules on the in-process store, with time passed in by hand.
import { describe, expect, it } from 'vitest';
import { createMemoryPresenceStore } from '../../src/realtime/memory-presence-store.js';

const GRACE = 1_000;
const TTL = 3_000;

describe('in-process presence store', () => {
  it('announces ONLINE once per user, however many devices connect', async () => {
    const store = createMemoryPresenceStore(GRACE);
    expect(await store.connect('u', 'phone', TTL)).toEqual({ userId: 'u', version: 1 });
    expect(await store.connect('u', 'laptop', TTL)).toBeNull();
    expect(await store.online(['u', 'v'])).toEqual(new Set(['u']));
  });

  it('goes OFFLINE only after the grace period following the last disconnect', async () => {
    const store = createMemoryPresenceStore(GRACE);
    await store.connect('u', 'c1', 100 + TTL);
    await store.disconnect('u', 'c1', 200);
    expect(await store.sweep(200 + GRACE - 1)).toEqual([]);
    expect(await store.online(['u'])).toEqual(new Set(['u']));
    // OFFLINE since the disconnect, in the next version.
    expect(await store.sweep(200 + GRACE)).toEqual([{ userId: 'u', version: 2, lastSeenAt: 200 }]);
    expect(await store.online(['u'])).toEqual(new Set());
    // Reported once only.
    expect(await store.sweep(10_000)).toEqual([]);
  });

  it('stays ONLINE while a second device is connected', async () => {
    const store = createMemoryPresenceStore(GRACE);
    await store.connect('u', 'c1', TTL);
    await store.connect('u', 'c2', TTL);
    await store.disconnect('u', 'c1', 500);
    expect(await store.sweep(500 + GRACE)).toEqual([]);
    expect(await store.online(['u'])).toEqual(new Set(['u']));
  });

  it('emits nothing for a reconnect within the grace period', async () => {
    const store = createMemoryPresenceStore(GRACE);
    await store.connect('u', 'c1', TTL);
    await store.disconnect('u', 'c1', 1_000);
    expect(await store.connect('u', 'c2', 1_200 + TTL)).toBeNull(); // not a new ONLINE
    expect(await store.sweep(1_000 + GRACE)).toEqual([]);
    expect(await store.online(['u'])).toEqual(new Set(['u']));
  });

  it('lets connections that are not renewed expire (a crashed instance)', async () => {
    const store = createMemoryPresenceStore(GRACE);
    await store.connect('u', 'c1', TTL);
    await store.renew([{ userId: 'u', connectionId: 'c1' }], 2 * TTL);
    expect(await store.sweep(TTL + GRACE)).toEqual([]);
    expect((await store.sweep(2 * TTL + GRACE)).map((c) => c.userId)).toEqual(['u']);
  });

  it('puts back a connection the store lost when it is renewed, as a new ONLINE', async () => {
    const store = createMemoryPresenceStore(GRACE);
    await store.connect('u', 'c1', TTL);
    // The connection's instance stalled past the TTL: the sweep took the user OFFLINE.
    expect((await store.sweep(TTL + GRACE)).map((c) => c.version)).toEqual([2]);
    // Its next heartbeat brings the user back, in a newer version.
    expect(await store.renew([{ userId: 'u', connectionId: 'c1' }], 3 * TTL)).toEqual([
      { userId: 'u', version: 3 },
    ]);
    expect(await store.online(['u'])).toEqual(new Set(['u']));
  });
});
