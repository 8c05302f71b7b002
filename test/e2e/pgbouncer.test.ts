// Parley behind PgBouncer in transaction mode (Debian's 1.18: no prepared statements across
// transactions): two real server processes whose pool goes through a PgBouncer of a few server
// connections, so their transactions keep landing on each other's connections, while migrations
// and the job queue (LISTEN) use the database's own address (DATABASE_DIRECT_URL).
import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import postgres from 'postgres';
import webPush from 'web-push';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startPgbouncer, type Pgbouncer } from '../support/pgbouncer.js';
import {
  okAt,
  registerAt,
  runFailingStart,
  startServerProcess,
  type E2eUser,
  type ServerProcess,
} from '../support/process.js';
import { startPushService, type PushService } from '../support/push-service.js';
import { createDatabase } from '../support/services.js';
import { connect, probe, subscribe } from '../support/ws.js';

const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { token user { id } } }`;
const DIRECT = `mutation($phone: String!) { startDirectConversation(phone: $phone) { id } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq clientMessageId } }`;
const PAGE = `query($id: ID!, $last: Int, $before: String) { messages(conversationId: $id, last: $last, before: $before) {
  edges { cursor node { seq body } } pageInfo { hasPreviousPage startCursor } } }`;
const ADDED = `subscription($id: ID) { messageAdded(conversationId: $id) { seq body } }`;
const REGISTER_PUSH = `mutation($input: PushSubscriptionInput!) { registerPushSubscription(input: $input) }`;

interface Sent {
  id: string;
  seq: number;
  clientMessageId: string | null;
}
interface Page {
  messages: {
    edges: { cursor: string; node: { seq: number; body: string } }[];
    pageInfo: { hasPreviousPage: boolean; startCursor: string | null };
  };
}

const JWT_SECRET = 'pgbouncer-e2e-secret-pgbouncer-e2e-secret';
const PUSH_DELAY_MS = 300;
const available =
  inject('postgresUrl') !== '' && inject('redisUrl') !== '' && inject('pgbouncerPath') !== '';

describe.skipIf(!available)('behind PgBouncer in transaction mode', () => {
  const vapid = webPush.generateVAPIDKeys();
  let bouncer: Pgbouncer;
  let push: PushService;
  let directUrl: string;
  let a: ServerProcess;
  let b: ServerProcess;
  const clients: Client[] = [];

  beforeAll(async () => {
    [bouncer, push, directUrl] = await Promise.all([
      // Two server connections for two instances of ten client connections each: transactions
      // keep landing on connections another client used before.
      startPgbouncer({
        bin: inject('pgbouncerPath'),
        postgresUrl: inject('postgresUrl'),
        poolSize: 2,
      }),
      startPushService({ vapidPublicKey: vapid.publicKey, tls: false }),
      createDatabase(inject('postgresUrl'), 'bouncer', { empty: true }),
    ]);
    // The statement timeout comes from the database (or role), as the README says to set it.
    const admin = postgres(directUrl, { max: 1, onnotice: () => {} });
    const name = new URL(directUrl).pathname.slice(1);
    await admin.unsafe(`alter database "${name}" set statement_timeout = '5s'`);
    await admin.end({ timeout: 5 });
    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: bouncer.urlOf(directUrl),
      DATABASE_DIRECT_URL: directUrl,
      DATABASE_POOLER: 'transaction',
      REDIS_URL: inject('redisUrl'),
      REDIS_KEY_PREFIX: `e2e-bouncer-${process.pid}:`,
      JWT_SECRET,
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      VAPID_SUBJECT: 'mailto:ops@example.com',
      PUSH_DELAY_MS: String(PUSH_DELAY_MS),
      ALLOW_PRIVATE_ENDPOINTS: 'true',
      LOG_LEVEL: 'info',
    };
    // Both at once: their migrations meet at the advisory lock, over the direct address.
    [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.dispose()));
    await Promise.allSettled([a, b].map((s) => s?.stop('SIGTERM')));
    await Promise.allSettled([push?.close(), bouncer?.stop()]);
  });

  const send = (
    server: ServerProcess,
    user: E2eUser,
    conversationId: string,
    body: string,
    clientMessageId?: string,
  ) =>
    okAt<{ sendMessage: Sent }>(
      server,
      SEND,
      { input: { conversationId, body, ...(clientMessageId ? { clientMessageId } : {}) } },
      user.token,
    ).then((d) => d.sendMessage);

  /** Every message of the conversation, newest page first, `pageSize` at a time. */
  async function allPages(server: ServerProcess, user: E2eUser, id: string, pageSize: number) {
    const seqs: number[] = [];
    let before: string | null = null;
    for (;;) {
      const page: Page = await okAt<Page>(server, PAGE, { id, last: pageSize, before }, user.token);
      seqs.unshift(...page.messages.edges.map((e) => e.node.seq));
      if (!page.messages.pageInfo.hasPreviousPage) return seqs;
      before = page.messages.pageInfo.startCursor;
    }
  }

  it('runs the pool without session state, and says which statement timeout it has', () => {
    for (const server of [a, b]) {
      expect(server.output()).toMatch(
        /"statementTimeout":"5s".*statement timeout of pooled connections/,
      );
      expect(server.output()).not.toMatch(/"level":(40|50)/); // no warning, no error
    }
  });

  it('registers, logs in and starts one 1:1 conversation from both instances at once', async () => {
    const [alice, bob] = await Promise.all([registerAt(a, 'Alice'), registerAt(b, 'Bob')]);
    const { login } = await okAt<{ login: { user: { id: string } } }>(b, LOGIN, {
      input: { phone: alice.phone, password: 'password-Alice' },
    });
    expect(login.user.id).toBe(alice.id);
    const [fromA, fromB] = await Promise.all([
      okAt<{ startDirectConversation: { id: string } }>(
        a,
        DIRECT,
        { phone: bob.phone },
        alice.token,
      ),
      okAt<{ startDirectConversation: { id: string } }>(
        b,
        DIRECT,
        { phone: alice.phone },
        bob.token,
      ),
    ]);
    expect(fromA.startDirectConversation.id).toBe(fromB.startDirectConversation.id);
  });

  it('a send retried on both instances at once is one message; concurrent sends page back complete', async () => {
    const [alice, bob] = await Promise.all([registerAt(a, 'Alice 2'), registerAt(b, 'Bob 2')]);
    const { startDirectConversation: room } = await okAt<{
      startDirectConversation: { id: string };
    }>(a, DIRECT, { phone: bob.phone }, alice.token);
    const retried = await Promise.all(
      [a, b, a, b].map((s) => send(s, alice, room.id, 'sent once, retried thrice', 'retry-1')),
    );
    expect(new Set(retried.map((m) => m.id)).size).toBe(1);
    // Twenty at once from both users on both instances: the send batches and their statements.
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        send(i % 2 ? b : a, i % 3 ? alice : bob, room.id, `burst ${i}`),
      ),
    );
    const expected = Array.from({ length: 21 }, (_, i) => i + 1);
    // History pages, on both instances at once, several times over (each page is a statement
    // that is prepared once per connection when directly on PostgreSQL).
    const pagings = await Promise.all(
      [a, b, a, b, a, b, a, b].map((s, i) => allPages(s, i % 2 ? bob : alice, room.id, 3 + i)),
    );
    for (const seqs of pagings) expect(seqs).toEqual(expected);
    // And many at once: more statements in flight than server connections.
    const pages = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        okAt<Page>(
          i % 2 ? b : a,
          PAGE,
          { id: room.id, last: 1 + (i % 7) },
          (i % 3 ? alice : bob).token,
        ),
      ),
    );
    pages.forEach((p, i) =>
      expect(p.messages.edges.map((e) => e.node.seq)).toEqual(expected.slice(-(1 + (i % 7)))),
    );
    const page = await okAt<Page>(a, PAGE, { id: room.id, last: 100 }, bob.token);
    expect(
      page.messages.edges.filter((e) => e.node.body === 'sent once, retried thrice'),
    ).toHaveLength(1);
  });

  it('delivers live to a subscriber on the other instance', async () => {
    const [alice, bob] = await Promise.all([registerAt(a, 'Alice 3'), registerAt(b, 'Bob 3')]);
    const { startDirectConversation: room } = await okAt<{
      startDirectConversation: { id: string };
    }>(a, DIRECT, { phone: bob.phone }, alice.token);
    const client = connect(`ws://127.0.0.1:${b.port}/graphql`, bob.token);
    clients.push(client);
    const received = subscribe<{ seq: number; body: string }>(client, ADDED, { id: room.id });
    await probe(received, (i) => send(a, alice, room.id, `probe ${i}`));
    const sent = await send(a, alice, room.id, 'hello across instances');
    const items = await received.until((got) => got.some((m) => m.seq === sent.seq));
    expect(items.find((m) => m.seq === sent.seq)?.body).toBe('hello across instances');
    expect(received.errors).toEqual([]);
  });

  it('pushes through the job queue, whose LISTEN is on a direct connection, not a pooled one', async () => {
    const [alice, bob] = await Promise.all([registerAt(a, 'Alice 4'), registerAt(b, 'Bob 4')]);
    const sub = push.createSubscription();
    await okAt(
      b,
      REGISTER_PUSH,
      { input: { endpoint: sub.endpoint, p256dh: sub.p256dh, auth: sub.auth } },
      bob.token,
    );
    const { startDirectConversation: room } = await okAt<{
      startDirectConversation: { id: string };
    }>(a, DIRECT, { phone: bob.phone }, alice.token);
    const sent = await send(a, alice, room.id, `push me ${randomUUID().slice(0, 8)}`);
    const [pushed] = await push.waitFor((p) => p.some((x) => x.endpoint === sub.endpoint), 15_000);
    expect((pushed!.json as { seq: number }).seq).toBe(sent.seq);

    // The backends that LISTEN (graphile-worker, one per instance) are none of PgBouncer's.
    const admin = postgres(bouncer.urlOf(directUrl).replace(/\/[^/]*$/, '/pgbouncer'), {
      max: 1,
      fetch_types: false,
      onnotice: () => {},
    });
    const direct = postgres(directUrl, { max: 1, onnotice: () => {} });
    try {
      const servers = (await admin.unsafe('show servers', [], {
        simple: true,
      } as never)) as unknown as {
        remote_pid: number;
      }[];
      const listening = await direct<{ pid: number }[]>`
        select pid from pg_stat_activity where datname = current_database() and query ilike 'listen%'`;
      expect(listening.length).toBeGreaterThanOrEqual(2);
      const pooled = new Set(servers.map((s) => Number(s.remote_pid)));
      expect(servers.length).toBeGreaterThan(0);
      expect(listening.filter((l) => pooled.has(l.pid))).toEqual([]);
    } finally {
      await Promise.allSettled([admin.end({ timeout: 5 }), direct.end({ timeout: 5 })]);
    }
  });

  it('comes back by itself when PgBouncer restarts', async () => {
    const [alice, bob] = await Promise.all([registerAt(a, 'Alice 5'), registerAt(b, 'Bob 5')]);
    const { startDirectConversation: room } = await okAt<{
      startDirectConversation: { id: string };
    }>(a, DIRECT, { phone: bob.phone }, alice.token);
    await send(a, alice, room.id, 'before the restart');
    const port = Number(new URL(bouncer.url).port);
    await bouncer.stop(); // every client connection of both instances is cut
    bouncer = await startPgbouncer({
      bin: inject('pgbouncerPath'),
      postgresUrl: inject('postgresUrl'),
      poolSize: 2,
      port,
    });
    const back = Date.now();
    // Each instance's first send after the restart, retried until it is acknowledged.
    const firstAcknowledged = async (server: ServerProcess, user: E2eUser, body: string) => {
      for (let attempt = 0; ; attempt++) {
        try {
          await send(server, user, room.id, body, `after-restart-${server.port}`);
          return { attempt, ms: Date.now() - back };
        } catch (err) {
          if (Date.now() - back > 15_000) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    const recovered = await Promise.all([
      firstAcknowledged(a, alice, 'after the restart, on a'),
      firstAcknowledged(b, bob, 'after the restart, on b'),
    ]);
    console.log(
      `first acknowledged sends after the PgBouncer restart: ${JSON.stringify(recovered)}`,
    );
    const page = await okAt<Page>(b, PAGE, { id: room.id, last: 10 }, bob.token);
    // Nothing lost, nothing twice (the two sends after it raced each other: either order).
    const bodies = page.messages.edges.map((e) => e.node.body);
    expect(bodies[0]).toBe('before the restart');
    expect(bodies.slice(1).sort()).toEqual(['after the restart, on a', 'after the restart, on b']);
  });

  it('without DATABASE_POOLER=transaction it refuses to start, saying what to set; with it but no statement timeout anywhere, it warns', async () => {
    // Databases of their own, as each start would migrate one.
    const [refused, untimed] = await Promise.all([
      createDatabase(inject('postgresUrl'), 'bouncer', { empty: true }),
      createDatabase(inject('postgresUrl'), 'bouncer', { empty: true }),
    ]);
    const base = { NODE_ENV: 'production', JWT_SECRET, LOG_LEVEL: 'warn' };
    const [failed, started] = await Promise.all([
      runFailingStart({ ...base, DATABASE_URL: bouncer.urlOf(refused) }),
      startServerProcess({
        ...base,
        DATABASE_URL: bouncer.urlOf(untimed),
        DATABASE_DIRECT_URL: untimed,
        DATABASE_POOLER: 'transaction',
      }),
    ]);
    await started.stop('SIGTERM');
    expect(failed.code).not.toBe(0);
    // PgBouncer refuses the session settings Parley sends (the migrations' connection first).
    expect(failed.output).toContain('unsupported startup parameter');
    expect(failed.output).toContain('set DATABASE_POOLER=transaction and DATABASE_DIRECT_URL');
    expect(started.output()).toContain('no statement timeout on the pooled connections');
  });
});
