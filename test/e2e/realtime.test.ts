// Real-time delivery across instances: two real server processes on one PostgreSQL database and
// one Redis, clients talking to both over HTTP and WebSocket as front ends do.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  startServerProcess,
  type ServerProcess,
  okAt as ok,
  registerAt as register,
  createGroupAt as group,
} from '../support/process.js';
import { createDatabase, startRedis, type Service } from '../support/services.js';
import { connect, probe, subscribe, type Received } from '../support/ws.js';

const DIRECT = `mutation($phone: String!) { startDirectConversation(phone: $phone) { id } }`;
const LEAVE = `mutation($id: ID!) { leaveConversation(conversationId: $id) }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq conversationId clientMessageId } }`;
const EDIT = `mutation($input: EditMessageInput!) { editMessage(input: $input) { id body editedAt } }`;
const DELETE = `mutation($id: ID!) { deleteMessage(messageId: $id) { id body deletedAt } }`;
const MARK_READ = `mutation($id: ID!) { markRead(messageId: $id) { id unreadCount } }`;
const SET_TYPING = `mutation($id: ID!, $on: Boolean!) { setTyping(conversationId: $id, isTyping: $on) }`;
const HISTORY = `query($id: ID!, $first: Int) { messages(conversationId: $id, first: $first) { edges { cursor node { seq } } } }`;

const ADDED = `subscription($id: ID, $after: String) { messageAdded(conversationId: $id, after: $after) {
  id seq conversationId body clientMessageId sender { id } } }`;
const UPDATED = `subscription($id: ID) { messageUpdated(conversationId: $id) { id seq body editedAt deletedAt } }`;
const TYPING = `subscription($id: ID!) { typingChanged(conversationId: $id) { conversationId isTyping user { id } } }`;
const RECEIPTS = `subscription($id: ID!) { readReceiptUpdated(conversationId: $id) { conversationId lastReadSeq readAt user { id } } }`;

interface User {
  token: string;
  id: string;
  phone: string;
}
interface Sent {
  id: string;
  seq: number;
  conversationId: string;
  clientMessageId: string | null;
}
interface Added extends Sent {
  body: string | null;
  sender: { id: string };
}
interface Updated {
  id: string;
  seq: number;
  body: string | null;
  editedAt: string | null;
  deletedAt: string | null;
}
interface Typing {
  conversationId: string;
  isTyping: boolean;
  user: { id: string };
}
interface Receipt {
  conversationId: string;
  lastReadSeq: number;
  readAt: string;
  user: { id: string };
}

const JWT_SECRET = 'realtime-e2e-secret-realtime-e2e-secret';
const cursorOf = (seq: number) => Buffer.from(`m1:${seq}`).toString('base64url');
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
const wsUrlOf = (server: ServerProcess) => `ws://127.0.0.1:${server.port}/graphql`;

// ---------------------------------------------------------------------------------------------
// Bookkeeping: everything started here is stopped in afterAll.
// ---------------------------------------------------------------------------------------------

const dirs: string[] = [];
const servers: ServerProcess[] = [];
const clients: Client[] = [];
const redises: Service[] = [];

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.dispose()));
  await Promise.allSettled(servers.map((s) => s.stop('SIGTERM')));
  await Promise.allSettled(redises.map((r) => r.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-rt-e2e-'));
  dirs.push(dir);
  return dir;
}

function client(server: ServerProcess, token?: string): Client {
  const c = connect(wsUrlOf(server), token);
  clients.push(c);
  return c;
}

async function startPair(
  postgresUrl: string,
  redisUrl: string,
  extra: { a?: Record<string, string>; b?: Record<string, string> } = {},
): Promise<{ a: ServerProcess; b: ServerProcess; databaseUrl: string }> {
  const databaseUrl = await createDatabase(postgresUrl);
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    NODE_ENV: 'production',
    JWT_SECRET,
    DATA_DIR: tempDir(),
    LOG_LEVEL: 'warn',
  };
  const [a, b] = await Promise.all([
    startServerProcess({ ...env, ...extra.a }),
    startServerProcess({ ...env, ...extra.b }),
  ]);
  servers.push(a, b);
  return { a, b, databaseUrl };
}

async function send(
  server: ServerProcess,
  from: User,
  conversationId: string,
  body: string,
  clientMessageId?: string,
): Promise<Sent> {
  const data = await ok<{ sendMessage: Sent }>(
    server,
    SEND,
    { input: { conversationId, body, ...(clientMessageId ? { clientMessageId } : {}) } },
    from.token,
  );
  return data.sendMessage;
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function summarize(samples: readonly number[]): string {
  const sorted = [...samples].sort((x, y) => x - y);
  const f = (n: number) => `${n.toFixed(1)} ms`;
  return `n=${sorted.length} p50=${f(percentile(sorted, 0.5))} p99=${f(percentile(sorted, 0.99))} max=${f(sorted.at(-1)!)}`;
}

/** Polls a condition (every 50 ms) until it holds; rejects after `timeoutMs`. */
async function eventually(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const errorCodes = (r: Received<unknown>) => r.errors.map((e) => e.extensions?.['code']);

const postgresUrl = inject('postgresUrl');
const redisUrl = inject('redisUrl');
const services = Boolean(postgresUrl) && Boolean(redisUrl);

// ---------------------------------------------------------------------------------------------

describe.skipIf(!services)('two instances on one PostgreSQL and one Redis', () => {
  let a: ServerProcess;
  let b: ServerProcess;
  let ann: User;
  let bob: User;
  let carol: User;

  beforeAll(async () => {
    // A closes sockets that never send connection_init after 1 s (the WebSocket auth test).
    ({ a, b } = await startPair(postgresUrl, redisUrl, { a: { WS_INIT_TIMEOUT_MS: '1000' } }));
    ann = await register(a, 'ann');
    bob = await register(b, 'bob');
    carol = await register(a, 'carol');
  });

  it('a subscriber on B receives every message sent on A exactly once, in seq order', async () => {
    const conversationId = await group(a, ann, [bob]);
    const received = subscribe<Added & { at: number }>(
      client(b, bob.token),
      ADDED,
      { id: conversationId },
      (d) => ({ ...(d['messageAdded'] as Added), at: performance.now() }),
    );
    // No `after`: the stream starts "now"; probe until it is live.
    await probe(received, (i) => send(a, ann, conversationId, `probe ${i}`));

    const started = new Map<number, number>();
    let last = 0;
    for (let i = 1; i <= 100; i++) {
      const t0 = performance.now();
      const sent = await send(a, ann, conversationId, `message ${i}`);
      started.set(sent.seq, t0);
      last = sent.seq;
    }
    await received.until((items) => items.some((m) => m.seq === last), 20_000);

    const seqs = received.items.map((m) => m.seq);
    // Gap-free and duplicate-free from the first message seen live up to the last one sent.
    expect(seqs).toEqual(range(seqs[0]!, last));
    for (const seq of started.keys()) expect(seqs.filter((s) => s === seq)).toHaveLength(1);
    expect(received.items.every((m) => m.conversationId === conversationId)).toBe(true);
    expect(received.errors).toEqual([]);

    const latencies = received.items
      .filter((m) => started.has(m.seq))
      .map((m) => m.at - started.get(m.seq)!);
    console.log(`[realtime e2e] send on A -> receipt on B: ${summarize(latencies)}`);
    received.stop();
  }, 40_000);

  it('a retried sendMessage sent concurrently to A and B is stored and delivered once', async () => {
    const conversationId = await group(a, ann, [bob]);
    const received = subscribe<Added>(client(b, bob.token), ADDED, {
      id: conversationId,
      after: cursorOf(0),
    });
    const ids: string[] = [];
    for (let round = 1; round <= 5; round++) {
      const clientMessageId = randomUUID();
      const [x, y] = await Promise.all([
        send(a, ann, conversationId, `retried ${round}`, clientMessageId),
        send(b, ann, conversationId, `retried ${round}`, clientMessageId),
      ]);
      expect(y.id).toBe(x.id);
      expect(x.seq).toBe(round);
      ids.push(x.id);
    }
    const marker = await send(a, ann, conversationId, 'marker');
    await received.until((items) => items.some((m) => m.id === marker.id));
    expect(received.items.map((m) => m.id)).toEqual([...ids, marker.id]);
    expect(received.items.map((m) => m.seq)).toEqual(range(1, 6));
    received.stop();
  });

  it.each([0, 50, 120])(
    'a subscription resumed on B after %i of 200 messages sent on A yields every later seq once',
    async (startAt) => {
      const conversationId = await group(a, ann, [bob]);
      for (let i = 1; i <= 3; i++) await send(a, ann, conversationId, `early ${i}`);
      const history = await ok<{
        messages: { edges: { cursor: string; node: { seq: number } }[] };
      }>(a, HISTORY, { id: conversationId, first: 3 }, bob.token);
      const early = history.messages.edges.find((e) => e.node.seq === 2)!;

      const total = 200;
      let sent = 0;
      let reached: () => void = () => {};
      const startPoint = new Promise<void>((resolve) => (reached = resolve));
      if (startAt === 0) reached();
      // Four senders at once, so commits and publishes interleave (and may arrive out of order).
      let next = 0;
      const worker = async () => {
        while (next < total) {
          const i = ++next;
          await send(a, ann, conversationId, `bulk ${i}`);
          if (++sent === startAt) reached();
        }
      };
      let received: Received<Added> | undefined;
      const subscribed = startPoint.then(() => {
        received = subscribe<Added>(client(b, bob.token), ADDED, {
          id: conversationId,
          after: early.cursor,
        });
      });
      await Promise.all([subscribed, ...range(1, 4).map(worker)]);
      expect(sent).toBe(total);

      const lastSeq = 3 + total;
      await received!.until((items) => items.some((m) => m.seq === lastSeq), 20_000);
      expect(received!.items.map((m) => m.seq)).toEqual(range(3, lastSeq));
      expect(received!.errors).toEqual([]);
      received!.stop();
    },
    40_000,
  );

  it('typing, read receipts, edits and deletes made on A reach a member on B; a non-member gets NOT_FOUND', async () => {
    const conversationId = await group(a, ann, [bob]);
    const bobOnB = client(b, bob.token);

    // Typing: on, off, the subscriber's own typing unseen, and expiry without renewal.
    const typing = subscribe<Typing>(bobOnB, TYPING, { id: conversationId });
    const setTyping = (server: ServerProcess, user: User, on: boolean) =>
      ok(server, SET_TYPING, { id: conversationId, on }, user.token);
    await probe(typing, () => setTyping(a, ann, true));
    await setTyping(a, ann, false);
    await typing.until((items) => items.length >= 2);
    // Bob's own typing, then Ann's as a marker through the same instance (same Redis connection).
    await setTyping(b, bob, true);
    await setTyping(b, ann, true);
    await typing.until((items) => items.length >= 3);
    // Not renewed: turns off by itself after about 5 s.
    await typing.until((items) => items.length >= 4, 12_000);
    expect(typing.items.map((t) => [t.user.id, t.isTyping])).toEqual([
      [ann.id, true],
      [ann.id, false],
      [ann.id, true],
      [ann.id, false],
    ]);
    expect(typing.items.every((t) => t.conversationId === conversationId)).toBe(true);
    await setTyping(b, bob, false);

    // Read receipts: Ann reads Bob's messages on A.
    const receipts = subscribe<Receipt>(bobOnB, RECEIPTS, { id: conversationId });
    await probe(receipts, async (i) => {
      const m = await send(b, bob, conversationId, `read me ${i}`);
      await ok(a, MARK_READ, { id: m.id }, ann.token);
    });
    const toRead = await send(b, bob, conversationId, 'read me too');
    await ok(a, MARK_READ, { id: toRead.id }, ann.token);
    await receipts.until((items) => items.some((r) => r.lastReadSeq === toRead.seq));
    const receipt = receipts.items.at(-1)!;
    expect(receipt).toMatchObject({
      conversationId,
      lastReadSeq: toRead.seq,
      user: { id: ann.id },
    });
    expect(Number.isNaN(Date.parse(receipt.readAt))).toBe(false);
    const readSeqs = receipts.items.map((r) => r.lastReadSeq);
    expect(readSeqs).toEqual([...readSeqs].sort((x, y) => x - y));

    // Edits and deletes of Ann's message on A.
    const updates = subscribe<Updated>(bobOnB, UPDATED, { id: conversationId });
    const mine = await send(a, ann, conversationId, 'original');
    await probe(updates, (i) =>
      ok(a, EDIT, { input: { messageId: mine.id, body: `edit ${i}` } }, ann.token),
    );
    await ok(a, EDIT, { input: { messageId: mine.id, body: 'final edit' } }, ann.token);
    await updates.until((items) => items.some((u) => u.body === 'final edit'));
    await ok(a, DELETE, { id: mine.id }, ann.token);
    await updates.until((items) => items.some((u) => u.deletedAt !== null));
    const edited = updates.items.find((u) => u.body === 'final edit')!;
    expect(edited.editedAt).not.toBeNull();
    expect(edited.deletedAt).toBeNull();
    const deleted = updates.items.at(-1)!;
    expect(deleted).toMatchObject({ id: mine.id, seq: mine.seq, body: null });
    expect(deleted.deletedAt).not.toBeNull();
    expect(updates.items.every((u) => u.id === mine.id)).toBe(true);
    expect(updates.items.filter((u) => u.deletedAt !== null)).toHaveLength(1);

    // A non-member asking for any stream of the conversation: NOT_FOUND and nothing else.
    const carolOnB = client(b, carol.token);
    const denied = [
      subscribe(carolOnB, ADDED, { id: conversationId }),
      subscribe(carolOnB, ADDED, { id: conversationId, after: cursorOf(0) }),
      subscribe(carolOnB, UPDATED, { id: conversationId }),
      subscribe(carolOnB, TYPING, { id: conversationId }),
      subscribe(carolOnB, RECEIPTS, { id: conversationId }),
    ];
    for (const d of denied) {
      await d.ended();
      expect(errorCodes(d)).toEqual(['NOT_FOUND']);
      expect(d.items).toEqual([]);
    }
    typing.stop();
    receipts.stop();
    updates.stop();
  }, 40_000);

  it('messageAdded follows groups joined on A and stops at leaving, for all conversations and for one', async () => {
    const direct = (
      await ok<{ startDirectConversation: { id: string } }>(
        a,
        DIRECT,
        { phone: bob.phone },
        ann.token,
      )
    ).startDirectConversation.id;
    const received = subscribe<Added>(client(b, bob.token), ADDED, {});
    await probe(received, (i) => send(a, ann, direct, `probe ${i}`));

    // A group created on A after the subscription started, and a message in it.
    const joined = await group(a, ann, [bob, carol]);
    const hello = await send(a, ann, joined, 'hello group');
    await received.until((items) => items.some((m) => m.id === hello.id));
    // The same group followed alone, from its start.
    const alone = subscribe<Added>(client(b, bob.token), ADDED, {
      id: joined,
      after: cursorOf(0),
    });
    await alone.until((items) => items.some((m) => m.id === hello.id));

    // Bob leaves (on A); what is sent to the group afterwards never reaches him.
    expect(
      (await ok<{ leaveConversation: boolean }>(a, LEAVE, { id: joined }, bob.token))
        .leaveConversation,
    ).toBe(true);
    const afterLeave = await send(a, ann, joined, 'after leave');
    const marker = await send(a, ann, direct, 'marker');
    await received.until((items) => items.some((m) => m.id === marker.id));
    expect(received.items.some((m) => m.id === afterLeave.id)).toBe(false);
    expect(received.items.filter((m) => m.conversationId === joined).map((m) => m.id)).toEqual([
      hello.id,
    ]);
    // Within each conversation: consecutive seqs.
    const directSeqs = received.items.filter((m) => m.conversationId === direct).map((m) => m.seq);
    expect(directSeqs).toEqual(range(directSeqs[0]!, marker.seq));
    expect(received.errors).toEqual([]);
    // The stream of that group alone ends as if it had never existed, without the message.
    await alone.ended();
    expect(alone.items.map((m) => m.id)).toEqual([hello.id]);
    expect(errorCodes(alone)).toEqual(['NOT_FOUND']);
    received.stop();
  });

  it('WebSocket auth: no token or a bad one closes with 4401, no connection_init with 4408', async () => {
    for (const token of [undefined, 'not-a-token']) {
      const denied = subscribe(client(b, token), ADDED, {});
      await denied.ended();
      expect(denied.errors.map((e) => e.extensions?.['closeCode'])).toEqual([4401]);
      expect(denied.items).toEqual([]);
    }

    const socket = new WebSocket(wsUrlOf(a), 'graphql-transport-ws');
    const code = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('socket not closed within 10 s')), 10_000);
      socket.once('close', (closeCode) => {
        clearTimeout(timer);
        resolve(closeCode);
      });
      socket.once('error', reject);
    });
    expect(code).toBe(4408);
  });
});

// ---------------------------------------------------------------------------------------------

describe.skipIf(!services)('Redis goes away after commit', () => {
  let redis: Service;
  let a: ServerProcess;
  let b: ServerProcess;
  let ann: User;
  let bob: User;
  let sql: postgres.Sql | undefined;

  afterAll(async () => {
    await sql?.end({ timeout: 5 });
  });

  beforeAll(async () => {
    redis = (await startRedis())!;
    redises.push(redis);
    const outbox = { OUTBOX_GRACE_MS: '500', OUTBOX_DRAIN_INTERVAL_MS: '250' };
    let databaseUrl: string;
    ({ a, b, databaseUrl } = await startPair(postgresUrl, redis.url, { a: outbox, b: outbox }));
    sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    ann = await register(a, 'ann');
    bob = await register(a, 'bob');
  });

  it('messages acknowledged while Redis is down reach the subscriber on B once, in order, after it returns', async () => {
    const conversationId = await group(a, ann, [bob]);
    const first = await send(a, ann, conversationId, 'before 1');
    const second = await send(a, ann, conversationId, 'before 2');
    const received = subscribe<Added>(client(b, bob.token), ADDED, {
      id: conversationId,
      after: cursorOf(first.seq),
    });
    // The replayed message proves the subscription is established (subscribed, then read).
    await received.until((items) => items.some((m) => m.id === second.id));

    const port = Number(new URL(redis.url).port);
    await redis.stop();
    const down = performance.now();
    const whileDown: Sent[] = [];
    let restart: number;
    try {
      // A sees the broker gone (so what follows really is sent without a doorbell).
      await eventually(async () => (await fetch(new URL('/readyz', a.url))).status === 503, 10_000);
      for (let i = 1; i <= 5; i++) whileDown.push(await send(a, ann, conversationId, `down ${i}`));
      expect(whileDown.map((m) => m.seq)).toEqual(range(second.seq + 1, second.seq + 5));
      // Keep Redis away until a drainer has tried (and failed) to publish the stale outbox rows.
      await eventually(() => /outbox drain: publish failed/.test(a.output() + b.output()), 10_000);
    } finally {
      // Back on the same port, whatever happened (the next test needs it).
      restart = performance.now();
      redises.push((await startRedis(port))!);
    }
    const answering = performance.now();
    const lastDown = whileDown.at(-1)!;
    await received.until((items) => items.some((m) => m.id === lastDown.id), 15_000);
    const recovered = performance.now();
    const ms = (from: number) => `${(recovered - from).toFixed(0)} ms`;
    console.log(
      `[realtime e2e] Redis outage: all 5 delivered ${ms(restart)} after the restart began ` +
        `(${ms(answering)} after the test saw it answer PING; ${ms(down)} after it went down)`,
    );

    // Messages sent after recovery still arrive.
    const after: Sent[] = [];
    for (let i = 1; i <= 3; i++) after.push(await send(a, ann, conversationId, `after ${i}`));
    await received.until((items) => items.some((m) => m.id === after.at(-1)!.id), 15_000);
    // Both B's catch-up on reconnect and the drainers deliver the outage's messages: whichever
    // comes second is a duplicate to drop. Judge once the outbox is empty (all of it published).
    await eventually(
      async () => (await sql!`select count(*)::int as n from outbox`)[0]!['n'] === 0,
      15_000,
    );

    expect(received.items.map((m) => m.seq)).toEqual(range(second.seq, after.at(-1)!.seq));
    expect(received.items.map((m) => m.id)).toEqual([
      second.id,
      ...whileDown.map((m) => m.id),
      ...after.map((m) => m.id),
    ]);
    expect(received.errors).toEqual([]);
    received.stop();
  }, 45_000);

  it('a publish that fails while the subscriber stays connected is delivered from the outbox', async () => {
    // Redis stays up and B's subscriber stays connected (so it has no reason to catch up from the
    // database); only the instances' other connections are cut and kept from coming back, so
    // publishing fails and only the outbox drainer can deliver.
    const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    admin.on('error', () => {}); // a failure shows in the commands' results
    try {
      const conversationId = await group(a, ann, [bob]);
      const first = await send(a, ann, conversationId, 'before');
      const received = subscribe<Added>(client(b, bob.token), ADDED, {
        id: conversationId,
        after: cursorOf(0),
      });
      await received.until((items) => items.some((m) => m.id === first.id));

      const subscriberIds = async () =>
        ((await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string)
          .split('\n')
          .filter(Boolean)
          .map((line) => /\bid=(\d+)/.exec(line)![1]!);
      const subscribers = await subscriberIds();
      expect(subscribers.length).toBeGreaterThan(0);
      await admin.config('SET', 'maxclients', String(subscribers.length + 1));
      await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      await eventually(async () => (await fetch(new URL('/readyz', a.url))).status === 503, 10_000);

      const cut: Sent[] = [];
      for (let i = 1; i <= 3; i++) cut.push(await send(a, ann, conversationId, `cut ${i}`));
      expect(cut.map((m) => m.seq)).toEqual(range(first.seq + 1, first.seq + 3));

      const restore = performance.now();
      await admin.config('SET', 'maxclients', '10000');
      await received.until((items) => items.some((m) => m.id === cut.at(-1)!.id), 15_000);
      console.log(
        `[realtime e2e] publisher cut: delivered from the outbox ${(performance.now() - restore).toFixed(0)} ms after publishing could resume`,
      );
      // The subscriber connections were never cut: the outbox, not a catch-up, delivered.
      expect(await subscriberIds()).toEqual(expect.arrayContaining(subscribers));
      const next = await send(a, ann, conversationId, 'next');
      await received.until((items) => items.some((m) => m.id === next.id));
      expect(received.items.map((m) => m.id)).toEqual([first.id, ...cut.map((m) => m.id), next.id]);
      received.stop();
    } finally {
      await admin.config('SET', 'maxclients', '10000').catch(() => undefined);
      admin.disconnect();
    }
  }, 40_000);
});
