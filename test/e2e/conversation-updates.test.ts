// conversationUpdated across instances: two real server processes on one PostgreSQL database and
// one Redis. A removal made on A while messages keep coming ends the removed member's streams on
// B at the removal; a read on A clears the badge of the reader's device on B; two admins
// removing each other at once, one on each instance, are judged one after the other.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createGroupAt as group,
  gqlAt,
  okAt as ok,
  registerAt as register,
  startServerProcess,
  type E2eUser as User,
  type ServerProcess,
} from '../support/process.js';
import { createDatabase } from '../support/services.js';
import { connect, probe, subscribe } from '../support/ws.js';

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }`;
const MARK_READ = `mutation($id: ID!) { markRead(messageId: $id) { id unreadCount } }`;
const UNMUTE = `mutation($id: ID!) { unmuteConversation(conversationId: $id) { id } }`;
const REMOVE = `mutation($id: ID!, $user: ID!) { removeMember(conversationId: $id, userId: $user) { id } }`;
const ROLE = `mutation($id: ID!, $user: ID!, $role: MemberRole!) { setMemberRole(conversationId: $id, userId: $user, role: $role) { id } }`;
const RENAME = `mutation($id: ID!, $title: String!) { updateConversation(input: { conversationId: $id, title: $title }) { id } }`;
const HISTORY = `query($id: ID!) { messages(conversationId: $id, last: 100) {
  edges { node { seq kind systemEvent { type subject { id } } } } } }`;
const TOTAL_UNREAD = `query { me { totalUnreadCount } }`;

const ADDED = `subscription { messageAdded { seq conversationId } }`;
const UPDATES = `subscription { conversationUpdated { reason conversation { id unreadCount myRole } } }`;

interface Added {
  seq: number;
  conversationId: string;
}
interface Update {
  reason: string;
  conversation: { id: string; unreadCount: number; myRole: string | null };
}
interface HistoryNode {
  seq: number;
  kind: 'USER' | 'SYSTEM';
  systemEvent: { type: string; subject: { id: string } | null } | null;
}

const JWT_SECRET = 'updates-e2e-secret-updates-e2e-secret';
const postgresUrl = inject('postgresUrl');
const redisUrl = inject('redisUrl');
const services = Boolean(postgresUrl) && Boolean(redisUrl);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const of = (items: Update[], conversationId: string) =>
  items.filter((u) => u.conversation.id === conversationId);

const dirs: string[] = [];
const servers: ServerProcess[] = [];
const clients: Client[] = [];

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.dispose()));
  await Promise.allSettled(servers.map((s) => s.stop('SIGTERM')));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function client(server: ServerProcess, user: User): Client {
  const c = connect(`ws://127.0.0.1:${server.port}/graphql`, user.token);
  clients.push(c);
  return c;
}

async function history(server: ServerProcess, viewer: User, id: string): Promise<HistoryNode[]> {
  const data = await ok<{ messages: { edges: { node: HistoryNode }[] } }>(
    server,
    HISTORY,
    { id },
    viewer.token,
  );
  return data.messages.edges.map((e) => e.node);
}

describe.skipIf(!services)('conversationUpdated on two instances', () => {
  let a: ServerProcess;
  let b: ServerProcess;

  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-updates-e2e-'));
    dirs.push(dataDir);
    const env = {
      DATABASE_URL: await createDatabase(postgresUrl),
      REDIS_URL: redisUrl,
      NODE_ENV: 'production',
      JWT_SECRET,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
    };
    [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    servers.push(a, b);
  });

  const send = async (server: ServerProcess, from: User, conversationId: string, body: string) =>
    (
      await ok<{ sendMessage: { id: string; seq: number } }>(
        server,
        SEND,
        { input: { conversationId, body } },
        from.token,
      )
    ).sendMessage;

  /** conversationUpdated of `user` on `server`, live (unmuting `probeId` on A reaches it). */
  async function watchUpdates(server: ServerProcess, user: User, probeId: string) {
    const updates = subscribe<Update>(client(server, user), UPDATES);
    await probe(
      updates,
      () => ok(a, UNMUTE, { id: probeId }, user.token),
      (items) => of(items, probeId).length > 0,
    );
    return updates;
  }

  it('a member removed on A while another keeps sending there: their streams on B stop at the removal', async () => {
    const [owner, sender, user] = await Promise.all([
      register(a, 'owner'),
      register(a, 'sender'),
      register(b, 'user'),
    ]);
    const id = await group(a, owner, [sender, user]);
    const own = await group(b, user, []);
    const added = subscribe<Added>(client(b, user), ADDED);
    await probe(added, (i) => send(a, sender, id, `probe ${i}`));
    const updates = await watchUpdates(b, user, own);

    // The sender keeps sending on A, before, during and after the removal.
    let sending = true;
    let sent = 0;
    const sendingLoop = (async () => {
      while (sending) {
        await send(a, sender, id, `message ${++sent}`);
      }
    })();
    await added.until((items) => items.filter((m) => m.conversationId === id).length >= 10);
    await ok(a, REMOVE, { id, user: user.id }, owner.token);
    const atRemoval = sent;
    for (const deadline = Date.now() + 10_000; sent < atRemoval + 10 && Date.now() < deadline;) {
      await sleep(10);
    }
    sending = false;
    await sendingLoop;
    expect(sent).toBeGreaterThanOrEqual(atRemoval + 10);
    // Changes after the removal: none reaches the removed member.
    await ok(a, RENAME, { id, title: 'without them' }, owner.token);
    await updates.until((items) => of(items, id).some((u) => u.reason === 'REMOVED'));
    // Their other conversation still streams: a marker sent after everything arrives.
    const marker = await send(a, user, own, 'marker');
    await added.until((items) =>
      items.some((m) => m.conversationId === own && m.seq === marker.seq),
    );
    await sleep(1_000);

    const removal = (await history(a, owner, id)).find(
      (m) => m.systemEvent?.type === 'MEMBER_REMOVED' && m.systemEvent.subject?.id === user.id,
    );
    expect(removal).toBeDefined();
    const seqs = added.items.filter((m) => m.conversationId === id).map((m) => m.seq);
    expect(Math.max(...seqs)).toBeLessThanOrEqual(removal!.seq);
    expect(added.errors).toEqual([]);
    const last = of(updates.items, id).at(-1)!;
    expect(last.reason).toBe('REMOVED');
    expect(last.conversation.myRole).toBeNull();
    expect(of(updates.items, id).filter((u) => u.reason === 'REMOVED')).toHaveLength(1);
    expect(updates.errors).toEqual([]);
  }, 40_000);

  it("a read on A clears the badge on the reader's device on B", async () => {
    const [owner, user] = await Promise.all([register(a, 'owner'), register(b, 'reader')]);
    const id = await group(a, owner, [user]);
    await send(a, owner, id, 'one');
    await send(a, owner, id, 'two');
    const last = await send(a, owner, id, 'three');
    const updates = await watchUpdates(b, user, id);
    const badge = async () =>
      (await ok<{ me: { totalUnreadCount: number } }>(b, TOTAL_UNREAD, {}, user.token)).me
        .totalUnreadCount;
    expect(await badge()).toBe(3);

    const read = await ok<{ markRead: { unreadCount: number } }>(
      a,
      MARK_READ,
      { id: last.id },
      user.token,
    );
    expect(read.markRead.unreadCount).toBe(0);
    await updates.until((items) => of(items, id).some((u) => u.reason === 'READ'));
    const update = of(updates.items, id).find((u) => u.reason === 'READ')!;
    expect(update.conversation.unreadCount).toBe(0);
    // What the device refetches on it agrees.
    expect(await badge()).toBe(0);
    expect(updates.errors).toEqual([]);
  });

  it('two admins removing each other at once, one on each instance: one succeeds, one NOT_FOUND', async () => {
    for (let round = 0; round < 3; round++) {
      const [owner, first, second] = await Promise.all([
        register(a, 'owner'),
        register(a, 'first'),
        register(b, 'second'),
      ]);
      const id = await group(a, owner, [first, second]);
      for (const admin of [first, second]) {
        await ok(a, ROLE, { id, user: admin.id, role: 'ADMIN' }, owner.token);
      }
      const results = await Promise.all([
        gqlAt(a.url, REMOVE, { id, user: second.id }, first.token),
        gqlAt(b.url, REMOVE, { id, user: first.id }, second.token),
      ]);
      const succeeded = results.filter((r) => !r.errors && r.data);
      const refused = results.filter((r) => r.errors);
      expect(succeeded).toHaveLength(1);
      expect(refused.map((r) => r.errors![0]!.extensions?.['code'])).toEqual(['NOT_FOUND']);
      const removals = (await history(a, owner, id)).filter(
        (m) => m.systemEvent?.type === 'MEMBER_REMOVED',
      );
      expect(removals).toHaveLength(1);
    }
  });
});
