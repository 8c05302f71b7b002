// Presence end to end: real server processes (two or three on one PostgreSQL and one Redis, and
// one embedded), users' devices as graphql-ws clients, watchers subscribed to presenceChanged.
// Short timings (TTL 3 s, grace 1 s) keep the waits small.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'graphql-ws';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  startServerProcess,
  type ServerProcess,
  okAt as ok,
  registerAt as register,
} from '../support/process.js';
import { createDatabase } from '../support/services.js';
import { connect, subscribe, type Received } from '../support/ws.js';

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`;
const USER_BY_PHONE = `query($phone: String!) { userByPhone(phone: $phone) {
  id presence { status lastSeenAt user { id } } } }`;
const ME = `query { me { id presence { status lastSeenAt } } }`;
const PRESENCE = `subscription($ids: [ID!]) { presenceChanged(userIds: $ids) { status lastSeenAt user { id } } }`;

const TTL_MS = 3_000;
const GRACE_MS = 1_000;
/** How long "nothing happens" is watched for: well beyond the grace period and a sweep. */
const QUIET_MS = 2_500;
const TIMING = { PRESENCE_TTL_MS: String(TTL_MS), PRESENCE_GRACE_MS: String(GRACE_MS) };
const JWT_SECRET = 'presence-e2e-secret-presence-e2e-secret';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

interface User {
  token: string;
  id: string;
  phone: string;
}
interface Change {
  status: 'ONLINE' | 'OFFLINE';
  lastSeenAt: string | null;
  user: { id: string };
}
interface Seen {
  id: string;
  presence: {
    status: 'ONLINE' | 'OFFLINE';
    lastSeenAt: string | null;
    user: { id: string };
  } | null;
}

const postgresUrl = inject('postgresUrl');
const redisUrl = inject('redisUrl');

// ---------------------------------------------------------------------------------------------
// Bookkeeping: everything started here is stopped in afterAll.
// ---------------------------------------------------------------------------------------------

const dirs: string[] = [];
const servers: ServerProcess[] = [];
const clients: Client[] = [];

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.dispose()));
  await Promise.allSettled(servers.map((s) => s.stop('SIGTERM')));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-presence-e2e-'));
  dirs.push(dir);
  return dir;
}

async function start(env: Record<string, string>): Promise<ServerProcess> {
  const server = await startServerProcess({ LOG_LEVEL: 'warn', ...TIMING, ...env });
  servers.push(server);
  return server;
}

const wsUrlOf = (server: ServerProcess) => `ws://127.0.0.1:${server.port}/graphql`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Makes two users contacts: `from` sends `to` a message (opening their 1:1 conversation). */
async function befriend(server: ServerProcess, from: User, to: User): Promise<void> {
  await ok(server, SEND, { input: { toPhone: to.phone, body: 'hi' } }, from.token);
}

async function presenceOf(server: ServerProcess, viewer: User, of: User): Promise<Seen> {
  const data = await ok<{ userByPhone: Seen | null }>(
    server,
    USER_BY_PHONE,
    { phone: of.phone },
    viewer.token,
  );
  expect(data.userByPhone?.id).toBe(of.id);
  return data.userByPhone!;
}

/** A client of `user` on `server` whose socket is not opened yet (graphql-ws is lazy). */
function client(server: ServerProcess, user: User): Client {
  const c = connect(wsUrlOf(server), user.token);
  clients.push(c);
  return c;
}

function watch(c: Client, userIds?: string[]): Received<Change> {
  return subscribe<Change>(c, PRESENCE, userIds ? { ids: userIds } : {});
}

interface Device {
  /** Date.now() when the server acknowledged the connection. */
  readonly connectedAt: number;
  /** Closes the socket (as an app going away does); returns Date.now() just before. */
  close(): Promise<number>;
}

/**
 * A device of `user`: a WebSocket that completed connection_init, held open by an idle
 * subscription (narrowed to nobody), until close().
 */
async function openDevice(server: ServerProcess, user: User): Promise<Device> {
  const c = client(server, user);
  const acknowledged = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no connection_ack within 10 s')), 10_000);
    c.on('connected', () => {
      clearTimeout(timer);
      resolve(Date.now());
    });
    c.on('closed', (event) => {
      clearTimeout(timer);
      reject(new Error(`socket closed before connection_ack: ${JSON.stringify(event)}`));
    });
  });
  watch(c, []);
  const connectedAt = await acknowledged;
  return {
    connectedAt,
    async close() {
      const at = Date.now();
      await c.dispose();
      return at;
    },
  };
}

const changesOf = (received: Received<Change>, user: User) =>
  received.items.filter((p) => p.user.id === user.id);
const statusesOf = (received: Received<Change>, user: User) =>
  changesOf(received, user).map((p) => p.status);
const hasStatus = (user: User, status: Change['status']) => (items: Change[]) =>
  items.some((p) => p.user.id === user.id && p.status === status);

/**
 * A presenceChanged subscription is live a few ms after it is requested, with nothing to replay.
 * Brings fresh contacts of the watchers online, one after the other, until every subscription
 * in `subs` has seen one of them (each wait bounded), so that what follows is known to be
 * observed. The probes stay online (their later events are filtered out by user id).
 */
async function waitLive(
  server: ServerProcess,
  watchers: User[],
  subs: Received<Change>[],
  timeoutMs = 10_000,
): Promise<void> {
  const probes = new Set<string>();
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const probe = await register(server, `probe ${attempt}`);
    for (const watcher of watchers) await befriend(server, probe, watcher);
    probes.add(probe.id);
    await openDevice(server, probe);
    try {
      await Promise.all(
        subs.map((s) =>
          s.until(
            (items) => items.some((p) => probes.has(p.user.id) && p.status === 'ONLINE'),
            500,
          ),
        ),
      );
      return;
    } catch (err) {
      if (subs.some((s) => s.completed) || Date.now() > deadline) throw err;
    }
  }
}

/** Waits until `ms` after `since` (Date.now() based): a bounded watch for something NOT to happen. */
async function quietUntil(since: number, ms = QUIET_MS): Promise<void> {
  await sleep(Math.max(0, since + ms - Date.now()));
}

// ---------------------------------------------------------------------------------------------

describe.skipIf(!postgresUrl || !redisUrl)('presence across instances (PostgreSQL + Redis)', () => {
  let a: ServerProcess;
  let b: ServerProcess;
  /** Holds one user's only connection and is killed with SIGKILL. */
  let c: ServerProcess;
  let sql: postgres.Sql;

  afterAll(async () => {
    await sql?.end({ timeout: 5 });
  });

  beforeAll(async () => {
    const databaseUrl = await createDatabase(postgresUrl);
    sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    const env = {
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      // Presence state of its own: other test files share this Redis.
      REDIS_KEY_PREFIX: `e2e-presence-${randomUUID().slice(0, 8)}:`,
      NODE_ENV: 'production',
      JWT_SECRET,
      DATA_DIR: tempDir(),
    };
    [a, b, c] = await Promise.all([start(env), start(env), start(env)]);
  });

  const storedLastSeen = async (user: User): Promise<string | null> => {
    const rows = await sql<{ last_seen_at: Date | null }[]>`
      select last_seen_at from users where id = ${user.id}`;
    return rows[0]?.last_seen_at?.toISOString() ?? null;
  };

  it('a connection on B makes U ONLINE for a watcher on A; closing it makes U OFFLINE with a stored lastSeenAt', async () => {
    const w = await register(a, 'watcher');
    const u = await register(a, 'user');
    await befriend(b, u, w);
    const watcher = watch(client(a, w));
    await waitLive(b, [w], [watcher]);

    const device = await openDevice(b, u);
    await watcher.until(hasStatus(u, 'ONLINE'));
    expect(changesOf(watcher, u)).toEqual([
      { status: 'ONLINE', lastSeenAt: null, user: { id: u.id } },
    ]);
    for (const server of [a, b]) {
      expect((await presenceOf(server, w, u)).presence).toEqual({
        status: 'ONLINE',
        lastSeenAt: null,
        user: { id: u.id },
      });
    }

    const closedAt = await device.close();
    await watcher.until(hasStatus(u, 'OFFLINE'), 8_000);
    const observedAt = Date.now();
    const offline = changesOf(watcher, u)[1]!;
    expect(statusesOf(watcher, u)).toEqual(['ONLINE', 'OFFLINE']);
    expect(offline.lastSeenAt).toMatch(ISO);
    const lastSeen = Date.parse(offline.lastSeenAt!);
    // lastSeenAt is when the connection ended, not when OFFLINE was decided...
    expect(Math.abs(lastSeen - closedAt)).toBeLessThan(500);
    // ...which was no earlier than the grace period after the close.
    expect(observedAt - closedAt).toBeGreaterThanOrEqual(GRACE_MS);
    console.log(
      `[presence e2e] close → OFFLINE observed after ${observedAt - closedAt} ms ` +
        `(lastSeenAt = close ${lastSeen - closedAt >= 0 ? '+' : ''}${lastSeen - closedAt} ms; grace ${GRACE_MS} ms)`,
    );

    // Stored: both instances answer the same lastSeenAt, and it is the row's value.
    for (const server of [a, b]) {
      expect((await presenceOf(server, w, u)).presence).toEqual({
        status: 'OFFLINE',
        lastSeenAt: offline.lastSeenAt,
        user: { id: u.id },
      });
    }
    expect(await storedLastSeen(u)).toBe(offline.lastSeenAt);
    expect(watcher.errors).toEqual([]);
    watcher.stop();
  });

  it('two devices (one on A, one on B): closing one keeps U ONLINE, closing both makes U OFFLINE', async () => {
    const w = await register(a, 'watcher');
    const u = await register(a, 'user');
    await befriend(a, w, u);
    const watcher = watch(client(b, w));
    await waitLive(a, [w], [watcher]);

    const phone = await openDevice(a, u);
    await watcher.until(hasStatus(u, 'ONLINE'));
    const laptop = await openDevice(b, u);

    const firstClosed = await phone.close();
    await quietUntil(firstClosed);
    expect(statusesOf(watcher, u)).toEqual(['ONLINE']);
    for (const server of [a, b]) {
      expect((await presenceOf(server, w, u)).presence?.status).toBe('ONLINE');
    }

    const lastClosed = await laptop.close();
    await watcher.until(hasStatus(u, 'OFFLINE'), 8_000);
    console.log(
      `[presence e2e] second device closed → OFFLINE after ${Date.now() - lastClosed} ms`,
    );
    expect(statusesOf(watcher, u)).toEqual(['ONLINE', 'OFFLINE']);
    const offline = changesOf(watcher, u)[1]!;
    expect(Math.abs(Date.parse(offline.lastSeenAt!) - lastClosed)).toBeLessThan(500);
    expect((await presenceOf(a, w, u)).presence).toMatchObject({
      status: 'OFFLINE',
      lastSeenAt: offline.lastSeenAt,
    });
    expect(watcher.errors).toEqual([]);
    watcher.stop();
  });

  it('a reconnect within the grace period (to the other instance) emits nothing', async () => {
    const w = await register(a, 'watcher');
    const u = await register(a, 'user');
    await befriend(a, u, w);
    const watcher = watch(client(a, w));
    await waitLive(b, [w], [watcher]);

    const before = await openDevice(b, u);
    await watcher.until(hasStatus(u, 'ONLINE'));
    const closedAt = await before.close();
    await sleep(150);
    const after = await openDevice(a, u);
    const gap = after.connectedAt - closedAt;
    // Otherwise the test would not be about a reconnect within the grace period.
    expect(gap).toBeLessThan(GRACE_MS / 2);

    await quietUntil(closedAt);
    expect(statusesOf(watcher, u)).toEqual(['ONLINE']);
    expect((await presenceOf(b, w, u)).presence?.status).toBe('ONLINE');
    console.log(`[presence e2e] reconnected ${gap} ms after closing: no event`);

    // The watcher still observes U: closing for good is announced.
    await after.close();
    await watcher.until(hasStatus(u, 'OFFLINE'), 8_000);
    expect(statusesOf(watcher, u)).toEqual(['ONLINE', 'OFFLINE']);
    watcher.stop();
  });

  it('kill -9 of the instance holding U’s only connection: OFFLINE once the connection expires', async () => {
    const w = await register(a, 'watcher');
    const u = await register(a, 'user');
    await befriend(a, u, w);
    const watcher = watch(client(b, w));
    await waitLive(a, [w], [watcher]);

    const device = await openDevice(c, u);
    await watcher.until(hasStatus(u, 'ONLINE'));
    // While C lives, its heartbeats keep the connection beyond the TTL (and the grace period).
    await quietUntil(device.connectedAt, TTL_MS + GRACE_MS + 500);
    expect(statusesOf(watcher, u)).toEqual(['ONLINE']);
    expect((await presenceOf(a, w, u)).presence?.status).toBe('ONLINE');

    const killedAt = Date.now();
    await c.stop('SIGKILL');
    await watcher.until(hasStatus(u, 'OFFLINE'), 8_000);
    const elapsed = Date.now() - killedAt;
    console.log(
      `[presence e2e] kill -9 → OFFLINE observed after ${elapsed} ms (TTL ${TTL_MS} ms, grace ${GRACE_MS} ms)`,
    );
    // Nobody closed the socket: only expiry (then the grace period) can have ended it.
    expect(elapsed).toBeGreaterThanOrEqual(GRACE_MS);
    expect(elapsed).toBeLessThanOrEqual(8_000);

    const offline = changesOf(watcher, u)[1]!;
    expect(statusesOf(watcher, u)).toEqual(['ONLINE', 'OFFLINE']);
    expect(offline.lastSeenAt).toMatch(ISO);
    expect((await presenceOf(a, w, u)).presence).toMatchObject({
      status: 'OFFLINE',
      lastSeenAt: offline.lastSeenAt,
    });
    expect(await storedLastSeen(u)).toBe(offline.lastSeenAt);
    watcher.stop();
  });

  it('only contacts see presence, and userIds narrows but never widens', async () => {
    const u = await register(a, 'user');
    const w = await register(a, 'contact of user and other');
    const other = await register(a, 'other');
    const s = await register(a, 'stranger');
    const k = await register(a, 'contact of stranger');
    await befriend(a, u, w);
    await befriend(a, other, w);
    await befriend(b, k, s);

    // Narrowed subscriptions first on each socket, then the full stream that probes the socket.
    const wClient = client(a, w);
    const wNarrowed = watch(wClient, [other.id]);
    const wAll = watch(wClient);
    const sClient = client(b, s);
    const sOnlyU = watch(sClient, [u.id]);
    const sUAndK = watch(sClient, [u.id, k.id]);
    const sAll = watch(sClient);
    await waitLive(a, [w, s], [wAll, sAll]);

    // U online and offline: seen by the contact, not by the stranger.
    const device = await openDevice(b, u);
    await wAll.until(hasStatus(u, 'ONLINE'));
    await device.close();
    await wAll.until(hasStatus(u, 'OFFLINE'), 8_000);
    // Markers, after U's events: the other user (for W's narrowed stream) and the stranger's
    // contact (for the stranger's streams) come online.
    await openDevice(a, other);
    await openDevice(a, k);
    await wNarrowed.until(hasStatus(other, 'ONLINE'));
    await wAll.until(hasStatus(other, 'ONLINE'));
    await sAll.until(hasStatus(k, 'ONLINE'));
    await sUAndK.until(hasStatus(k, 'ONLINE'));

    expect(statusesOf(wAll, u)).toEqual(['ONLINE', 'OFFLINE']);
    expect(wNarrowed.items).toEqual([
      { status: 'ONLINE', lastSeenAt: null, user: { id: other.id } },
    ]);
    expect(changesOf(sAll, u)).toEqual([]);
    expect(sUAndK.items).toEqual([{ status: 'ONLINE', lastSeenAt: null, user: { id: k.id } }]);
    // Narrowed to U: neither U (not a contact) nor K (a contact, not asked for).
    expect(sOnlyU.items).toEqual([]);
    for (const r of [wNarrowed, wAll, sOnlyU, sUAndK, sAll]) {
      expect(r.errors).toEqual([]);
      expect(r.completed).toBe(false);
    }

    // User.presence: null between strangers (both ways), set for contacts and for oneself.
    for (const server of [a, b]) {
      expect((await presenceOf(server, s, u)).presence).toBeNull();
      expect((await presenceOf(server, u, s)).presence).toBeNull();
      expect((await presenceOf(server, w, u)).presence?.status).toBe('OFFLINE');
      expect((await presenceOf(server, s, k)).presence?.status).toBe('ONLINE');
    }
    const me = await ok<{ me: { presence: { status: string } | null } }>(a, ME, {}, s.token);
    expect(me.me.presence?.status).toBe('ONLINE');
    for (const r of [wNarrowed, wAll, sOnlyU, sUAndK, sAll]) r.stop();
  });
});

// ---------------------------------------------------------------------------------------------

describe('presence on one embedded instance (PGlite, in-process store)', () => {
  let e: ServerProcess;

  beforeAll(async () => {
    e = await start({ DATA_DIR: tempDir() });
  });

  it('online, a second device, offline after the last one with lastSeenAt', async () => {
    const w = await register(e, 'watcher');
    const u = await register(e, 'user');
    await befriend(e, u, w);
    const watcher = watch(client(e, w));
    await waitLive(e, [w], [watcher]);

    const phone = await openDevice(e, u);
    await watcher.until(hasStatus(u, 'ONLINE'));
    expect((await presenceOf(e, w, u)).presence).toEqual({
      status: 'ONLINE',
      lastSeenAt: null,
      user: { id: u.id },
    });
    const laptop = await openDevice(e, u);

    const firstClosed = await phone.close();
    await quietUntil(firstClosed);
    expect(statusesOf(watcher, u)).toEqual(['ONLINE']);
    expect((await presenceOf(e, w, u)).presence?.status).toBe('ONLINE');

    const lastClosed = await laptop.close();
    await watcher.until(hasStatus(u, 'OFFLINE'), 8_000);
    const observedAt = Date.now();
    console.log(
      `[presence e2e] embedded: last close → OFFLINE after ${observedAt - lastClosed} ms`,
    );
    expect(statusesOf(watcher, u)).toEqual(['ONLINE', 'OFFLINE']);
    const offline = changesOf(watcher, u)[1]!;
    expect(offline.lastSeenAt).toMatch(ISO);
    expect(Math.abs(Date.parse(offline.lastSeenAt!) - lastClosed)).toBeLessThan(500);
    expect(observedAt - lastClosed).toBeGreaterThanOrEqual(GRACE_MS);
    expect((await presenceOf(e, w, u)).presence).toEqual({
      status: 'OFFLINE',
      lastSeenAt: offline.lastSeenAt,
      user: { id: u.id },
    });
    expect(watcher.errors).toEqual([]);
    watcher.stop();
  });
});
