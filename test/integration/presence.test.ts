// Presence in one process, on the embedded parts and on PostgreSQL + Redis.
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ok,
  registerUser,
  startApp,
  type TestApp,
  type TestUser,
  deployments,
} from '../support/app.js';
import { connect, subscribe } from '../support/ws.js';

const PRESENCE = `subscription($ids: [ID!]) { presenceChanged(userIds: $ids) { status lastSeenAt user { id } } }`;
interface PresenceItem {
  status: string;
  lastSeenAt: string | null;
  user: { id: string };
}

describe.each(deployments())('presence on $name', ({ backend, redisUrl, available }) => {
  let app: TestApp;
  const clients: Client[] = [];
  beforeAll(async () => {
    if (!available) return;
    app = await startApp(backend, {
      ...(redisUrl ? { redisUrl } : {}),
      env: { PRESENCE_TTL_MS: '3000', PRESENCE_GRACE_MS: '600' },
    });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await app?.close();
  });

  const device = (user: TestUser) => {
    const c = connect(app.wsUrl, user.token);
    clients.push(c);
    // A lazy client opens its socket with the first subscription.
    const sub = subscribe<PresenceItem>(c, PRESENCE, {});
    return { client: c, sub, close: () => c.dispose() };
  };

  const befriend = async (a: TestUser, b: TestUser) =>
    ok(
      await app.gql(
        `mutation($p: String!) { startDirectConversation(phone: $p) { id } }`,
        { p: b.phone },
        a.token,
      ),
    );

  const presenceOf = async (viewer: TestUser, of: TestUser) =>
    ok(
      await app.gql<{
        userByPhone: { presence: { status: string; lastSeenAt: string | null } | null };
      }>(
        `query($p: String!) { userByPhone(phone: $p) { presence { status lastSeenAt } } }`,
        { p: of.phone },
        viewer.token,
      ),
    ).userByPhone.presence;

  /** A watcher whose presence subscription is proven live by a contact coming online. */
  async function liveWatcher() {
    const [watcher, probe] = await Promise.all([
      registerUser(app, 'Watcher'),
      registerUser(app, 'Probe'),
    ]);
    await befriend(watcher, probe);
    const w = device(watcher);
    const sawProbe = () => w.sub.items.some((p) => p.user.id === probe.id && p.status === 'ONLINE');
    for (let attempt = 0; attempt < 10 && !sawProbe(); attempt++) {
      const probeDevice = device(probe);
      await w.sub.until(sawProbe, 1_500).catch(() => undefined);
      if (sawProbe()) break;
      // The watcher was not listening yet: let the probe go OFFLINE and come back.
      await probeDevice.close();
      while ((await presenceOf(watcher, probe))?.status !== 'OFFLINE') {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    if (!sawProbe()) throw new Error('watcher never became live');
    return { watcher, w };
  }

  it.skipIf(!available)(
    'announces ONLINE, then OFFLINE with a stored lastSeenAt, to contacts',
    async () => {
      const { watcher, w } = await liveWatcher();
      const user = await registerUser(app, 'User');
      await befriend(user, watcher);
      const d = device(user);
      await w.sub.until((items) =>
        items.some((p) => p.user.id === user.id && p.status === 'ONLINE'),
      );
      expect((await presenceOf(watcher, user))?.status).toBe('ONLINE');
      await d.close();
      const items = await w.sub.until((x) =>
        x.some((p) => p.user.id === user.id && p.status === 'OFFLINE'),
      );
      const offline = items.find((p) => p.user.id === user.id && p.status === 'OFFLINE')!;
      expect(Date.parse(offline.lastSeenAt!)).not.toBeNaN();
      expect(await presenceOf(watcher, user)).toEqual({
        status: 'OFFLINE',
        lastSeenAt: offline.lastSeenAt,
      });
    },
  );

  it.skipIf(!available)(
    'keeps a user with a second device ONLINE, and a quick reconnect does not flap',
    async () => {
      const { watcher, w } = await liveWatcher();
      const user = await registerUser(app, 'Two devices');
      await befriend(watcher, user);
      const phone = device(user);
      await w.sub.until((x) => x.some((p) => p.user.id === user.id));
      const laptop = device(user);
      await laptop.sub.until(() => true); // opened
      await phone.close();
      const quick = device(user); // reconnect of the phone right away
      await new Promise((r) => setTimeout(r, 1_500)); // longer than the grace period
      expect(w.sub.items.filter((p) => p.user.id === user.id).map((p) => p.status)).toEqual([
        'ONLINE',
      ]);
      expect((await presenceOf(watcher, user))?.status).toBe('ONLINE');
      await laptop.close();
      await quick.close();
      await w.sub.until((x) => x.some((p) => p.user.id === user.id && p.status === 'OFFLINE'));
      expect(w.sub.items.filter((p) => p.user.id === user.id).map((p) => p.status)).toEqual([
        'ONLINE',
        'OFFLINE',
      ]);
    },
  );

  it.skipIf(!available)('shows presence to contacts only, and userIds narrows', async () => {
    const { watcher, w } = await liveWatcher();
    const [user, stranger] = await Promise.all([
      registerUser(app, 'User'),
      registerUser(app, 'Stranger'),
    ]);
    await befriend(user, watcher);
    const strangerAll = subscribe<PresenceItem>(connect(app.wsUrl, stranger.token), PRESENCE, {});
    const strangerNarrow = subscribe<PresenceItem>(connect(app.wsUrl, stranger.token), PRESENCE, {
      ids: [user.id],
    });
    const watcherOther = subscribe<PresenceItem>(connect(app.wsUrl, watcher.token), PRESENCE, {
      ids: [stranger.id],
    });
    const d = device(user);
    await w.sub.until((x) => x.some((p) => p.user.id === user.id && p.status === 'ONLINE'));
    await d.close();
    await w.sub.until((x) => x.some((p) => p.user.id === user.id && p.status === 'OFFLINE'));
    expect(strangerAll.items).toEqual([]);
    expect(strangerNarrow.items).toEqual([]);
    expect(watcherOther.items).toEqual([]);
    expect(await presenceOf(stranger, user)).toBeNull();
    expect((await presenceOf(user, user))?.status).toBeDefined(); // one's own presence is visible
    for (const s of [strangerAll, strangerNarrow, watcherOther]) s.stop();
  });
});
