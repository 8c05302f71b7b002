// The subscription contract, run in process over both pairs of parts: PGlite with the in-process
// bus (the embedded default) and real PostgreSQL with real Redis (production).
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../src/realtime/events.js';
import {
  ok,
  registerUser,
  startApp,
  type TestApp,
  type TestUser,
  deployments,
} from '../support/app.js';
import { connect, subscribe } from '../support/ws.js';
import WebSocket from 'ws';

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq conversationId } }`;
const ADDED = `subscription($id: ID, $after: String) { messageAdded(conversationId: $id, after: $after) { id seq body conversationId sender { id } } }`;
const cursorOf = (seq: number) => Buffer.from(`m1:${seq}`).toString('base64url');
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

interface Added {
  id: string;
  seq: number;
  body: string;
  conversationId: string;
  sender: { id: string };
}

describe.each(deployments())('subscriptions on $name', ({ backend, redisUrl, available }) => {
  let app: TestApp;
  const clients: Client[] = [];
  beforeAll(async () => {
    if (!available) return;
    app = await startApp(backend, {
      ...(redisUrl ? { redisUrl } : {}),
      env: { WS_INIT_TIMEOUT_MS: '500', OUTBOX_GRACE_MS: '300', OUTBOX_DRAIN_INTERVAL_MS: '200' },
    });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await app?.close();
  });

  const client = (user: TestUser) => {
    const c = connect(app.wsUrl, user.token);
    clients.push(c);
    return c;
  };
  const send = async (user: TestUser, input: Record<string, unknown>) =>
    ok(
      await app.gql<{ sendMessage: { id: string; seq: number; conversationId: string } }>(
        SEND,
        { input },
        user.token,
      ),
    ).sendMessage;

  async function chat() {
    const [a, b] = await Promise.all([registerUser(app, 'A'), registerUser(app, 'B')]);
    const first = await send(a, { toPhone: b.phone, body: 'm1' });
    return { a, b, id: first.conversationId };
  }

  /** Inserts messages straight into the database: committed, but never published. */
  async function insertSilently(
    conversationId: string,
    senderId: string,
    from: number,
    to: number,
  ) {
    await app.database.db.execute(sql`
      insert into messages (conversation_id, seq, sender_id, body)
      select ${conversationId}::uuid, g, ${senderId}::uuid, 'silent ' || g from generate_series(${from}::int, ${to}::int) g`);
    await app.database.db.execute(
      sql`update conversations set last_seq = ${to} where id = ${conversationId}::uuid`,
    );
  }

  it.skipIf(!available)(
    'delivers new messages of a conversation once each, in order, then resumes from a cursor',
    async () => {
      const { a, b, id } = await chat();
      const live = subscribe<Added>(client(b), ADDED, { id, after: cursorOf(1) });
      const sent = [];
      for (let i = 2; i <= 21; i++) sent.push(await send(a, { conversationId: id, body: `m${i}` }));
      const items = await live.until((x) => x.length >= 20);
      expect(items.map((m) => m.seq)).toEqual(range(2, 21));
      expect(items.map((m) => m.id)).toEqual(sent.map((s) => s.id));
      expect(items[0]!.sender.id).toBe(a.id);
      // Resuming from seq 15 replays 16..21 exactly once, then goes on live.
      const resumed = subscribe<Added>(client(b), ADDED, { id, after: cursorOf(15) });
      await resumed.until((x) => x.length >= 6);
      await send(a, { conversationId: id, body: 'm22' });
      expect((await resumed.until((x) => x.length >= 7)).map((m) => m.seq)).toEqual(range(16, 22));
      expect((await live.until((x) => x.length >= 21)).map((m) => m.seq)).toEqual(range(2, 22));
    },
  );

  it.skipIf(!available)(
    'resumes with no gap and no duplicate while messages are being sent',
    async () => {
      for (const startAfter of [0, 30]) {
        const { a, b, id } = await chat();
        const total = 100;
        let subscription: ReturnType<typeof subscribe<Added>> | undefined;
        for (let i = 2; i <= total; i++) {
          await send(i % 3 ? a : b, { conversationId: id, body: `m${i}` });
          if (i === startAfter || (startAfter === 0 && i === 2)) {
            subscription = subscribe<Added>(client(b), ADDED, { id, after: cursorOf(1) });
          }
        }
        const items = await subscription!.until((x) => x.length >= total - 1, 20_000);
        expect(items.map((m) => m.seq)).toEqual(range(2, total));
        subscription!.stop();
      }
    },
  );

  it.skipIf(!available)(
    'asks for a resync when more than 1,000 messages would be replayed',
    async () => {
      const { a, b, id } = await chat();
      await insertSilently(id, a.id, 2, 1_005);
      const tooFar = subscribe<Added>(client(b), ADDED, { id, after: cursorOf(1) });
      await tooFar.ended();
      expect(tooFar.items).toEqual([]);
      expect(tooFar.errors[0]?.extensions?.['code']).toBe('RESYNC_REQUIRED');
      const beyond = subscribe<Added>(client(b), ADDED, { id, after: cursorOf(2_000) });
      await beyond.ended();
      expect(beyond.errors[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
      const near = subscribe<Added>(client(b), ADDED, { id, after: cursorOf(5) });
      const replayed = await near.until((x) => x.length >= 1_000, 20_000);
      expect(replayed.map((m) => m.seq)).toEqual(range(6, 1_005));
    },
  );

  it.skipIf(!available)(
    'drops a message published twice and fills a gap in seq from the database',
    async () => {
      const { a, b, id } = await chat();
      const live = subscribe<Added>(client(b), ADDED, { id, after: cursorOf(1) });
      const m2 = await send(a, { conversationId: id, body: 'm2' });
      await live.until((x) => x.length >= 1);
      // The same event again (a drained outbox row racing its first publish): dropped.
      const row = {
        conversationId: id,
        seq: m2.seq,
        senderId: a.id,
        body: 'm2',
        clientMessageId: null,
        createdAt: new Date().toISOString(),
        editedAt: null,
        deletedAt: null,
        attachmentCount: 0,
        changeSeq: null,
        sender: { id: a.id, phone: a.phone, displayName: a.displayName },
        memberVersion: 0,
      };
      await app.bus.publish(topics.messages(id), { type: 'messageAdded', message: row });
      // Messages 3..5 committed but never published; 6 is published: 3..5 come from the database first.
      await insertSilently(id, a.id, 3, 5);
      const m6 = await send(a, { conversationId: id, body: 'm6' });
      expect(m6.seq).toBe(6);
      const items = await live.until((x) => x.length >= 5);
      expect(items.map((m) => m.seq)).toEqual([2, 3, 4, 5, 6]);
      expect(items.map((m) => m.body)).toEqual(['m2', 'silent 3', 'silent 4', 'silent 5', 'm6']);
    },
  );

  it.skipIf(!available)(
    'publishes a committed message whose publish never happened, from the outbox',
    async () => {
      const { a, b, id } = await chat();
      const live = subscribe<Added>(client(b), ADDED, { id, after: cursorOf(1) });
      // As if the process died between the commit and the publish: message and outbox row only.
      // The row holds what rebuilds the event (as the send function writes it); the drainer
      // reads the message back and publishes it.
      await insertSilently(id, a.id, 2, 3);
      const payload = JSON.stringify({ kind: 'messageAdded', seq: 2 });
      // A row written by an older version holds the whole event and its topic: still published.
      const legacy = JSON.stringify({
        type: 'messageAdded',
        message: {
          conversationId: id,
          seq: 3,
          senderId: a.id,
          body: 'silent 3',
          clientMessageId: null,
          createdAt: new Date().toISOString(),
          editedAt: null,
          deletedAt: null,
        },
      });
      await app.database.db.execute(sql`insert into outbox (conversation_id, payload, created_at)
      values (${id}::uuid, ${payload}, now() - interval '10 seconds')`);
      await app.database.db
        .execute(sql`insert into outbox (conversation_id, topic, payload, created_at)
      values (${id}::uuid, ${`c:${id}`}, ${legacy}, now() - interval '10 seconds')`);
      const items = await live.until((x) => x.length >= 2, 10_000);
      expect(items.map((m) => m.body)).toEqual(['silent 2', 'silent 3']);
      expect(items.map((m) => m.sender.id)).toEqual([a.id, a.id]);
      // The drained row is gone.
      const remaining = async () => {
        const res = await app.database.db.execute(
          sql`select count(*)::int as n from outbox where conversation_id = ${id}::uuid`,
        );
        const rows = Array.isArray(res) ? res : (res as unknown as { rows: unknown[] }).rows;
        return (rows[0] as { n: number }).n;
      };
      const deadline = Date.now() + 5_000;
      while ((await remaining()) > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await remaining()).toBe(0);
    },
  );

  it.skipIf(!available)(
    'streams every conversation of the caller, including new ones, and stops at leaving',
    async () => {
      const [me, x, y] = await Promise.all([
        registerUser(app, 'Me'),
        registerUser(app, 'X'),
        registerUser(app, 'Y'),
      ]);
      const existing = await send(x, { toPhone: me.phone, body: 'before subscribing' });
      const all = subscribe<Added>(client(me), ADDED, {});
      // Probe until the stream is live.
      let probes = 0;
      const probe = setInterval(
        () => void send(x, { conversationId: existing.conversationId, body: `probe ${++probes}` }),
        150,
      );
      await all.until((items) => items.length >= 1).finally(() => clearInterval(probe));
      await new Promise((r) => setTimeout(r, 200)); // let in-flight probes land
      const before = all.items.length;

      const direct = await send(y, { toPhone: me.phone, body: 'new chat' });
      const group = ok(
        await app.gql<{ createGroupConversation: { id: string } }>(
          `mutation($input: CreateGroupConversationInput!) { createGroupConversation(input: $input) { id } }`,
          { input: { title: 'New group', memberPhones: [me.phone, y.phone] } },
          x.token,
        ),
      ).createGroupConversation.id;
      await send(x, { conversationId: group, body: 'in group' });
      const got = await all.until(
        (items) =>
          items.slice(before).some((m) => m.body === 'in group') &&
          items.slice(before).some((m) => m.body === 'new chat'),
      );
      expect(
        got.filter((m) => m.conversationId === direct.conversationId).map((m) => m.body),
      ).toEqual(['new chat']);

      ok(
        await app.gql(
          `mutation($id: ID!) { leaveConversation(conversationId: $id) }`,
          { id: group },
          me.token,
        ),
      );
      await send(x, { conversationId: group, body: 'after leaving' });
      await send(y, { conversationId: direct.conversationId, body: 'marker' });
      const final = await all.until((items) => items.some((m) => m.body === 'marker'));
      expect(final.some((m) => m.body === 'after leaving')).toBe(false);
      // Every message arrived once.
      const keys = final.map((m) => `${m.conversationId}:${m.seq}`);
      expect(new Set(keys).size).toBe(keys.length);
    },
  );

  it.skipIf(!available)(
    "ends a removed member's subscription and never shows a conversation to a non-member",
    async () => {
      const [a, b, eve] = await Promise.all([
        registerUser(app),
        registerUser(app),
        registerUser(app, 'Eve'),
      ]);
      const group = ok(
        await app.gql<{ createGroupConversation: { id: string } }>(
          `mutation($input: CreateGroupConversationInput!) { createGroupConversation(input: $input) { id } }`,
          { input: { title: 'Private', memberPhones: [b.phone] } },
          a.token,
        ),
      ).createGroupConversation.id;
      for (const query of [
        ADDED,
        `subscription($id: ID) { messageUpdated(conversationId: $id) { id } }`,
        `subscription($id: ID!) { typingChanged(conversationId: $id) { isTyping } }`,
        `subscription($id: ID!) { readReceiptUpdated(conversationId: $id) { lastReadSeq } }`,
      ]) {
        for (const id of [group, randomUUID()]) {
          const denied = subscribe(client(eve), query, { id });
          await denied.ended();
          expect(denied.items).toEqual([]);
          expect(denied.errors[0]?.extensions?.['code']).toBe('NOT_FOUND');
        }
      }
      const first = await send(a, { conversationId: group, body: 'hello' });
      const sub = subscribe<Added>(client(b), ADDED, { id: group, after: cursorOf(0) });
      await sub.until((x) => x.length >= 1);
      ok(
        await app.gql(
          `mutation($id: ID!) { leaveConversation(conversationId: $id) }`,
          { id: group },
          b.token,
        ),
      );
      await send(a, { conversationId: group, body: 'after B left' });
      await sub.ended();
      expect(sub.items.map((m) => m.body)).toEqual(['hello']);
      expect(sub.errors[0]?.extensions?.['code']).toBe('NOT_FOUND');
      expect(first.seq).toBe(1);
    },
  );

  it.skipIf(!available)('announces edits and deletes once each', async () => {
    const { a, b, id } = await chat();
    const msg = await send(a, { conversationId: id, body: 'draft' });
    const updates = subscribe<{
      seq: number;
      body: string | null;
      editedAt: string | null;
      deletedAt: string | null;
    }>(
      client(b),
      `subscription($id: ID) { messageUpdated(conversationId: $id) { seq body editedAt deletedAt } }`,
      { id },
    );
    const EDIT = `mutation($m: ID!, $b: String!) { editMessage(input: { messageId: $m, body: $b }) { id } }`;
    let n = 0;
    const probe = setInterval(
      () => void app.gql(EDIT, { m: msg.id, b: `edit ${++n}` }, a.token),
      150,
    );
    await updates.until((x) => x.length >= 1).finally(() => clearInterval(probe));
    await new Promise((r) => setTimeout(r, 200));
    ok(await app.gql(EDIT, { m: msg.id, b: 'final' }, a.token));
    ok(
      await app.gql(
        `mutation($m: ID!) { deleteMessage(messageId: $m) { id } }`,
        { m: msg.id },
        a.token,
      ),
    );
    const items = await updates.until((x) => x.some((u) => u.deletedAt !== null));
    const tail = items.slice(-2);
    expect(tail[0]).toMatchObject({ seq: msg.seq, body: 'final' });
    expect(tail[1]).toMatchObject({ seq: msg.seq, body: null });
    expect(items.filter((u) => u.body === 'final')).toHaveLength(1);
  });

  it.skipIf(!available)(
    'shows typing to other members, expiring by itself, and read receipts',
    async () => {
      const { a, b, id } = await chat();
      const typing = subscribe<{ isTyping: boolean; user: { id: string } }>(
        client(b),
        `subscription($id: ID!) { typingChanged(conversationId: $id) { isTyping user { id } conversationId } }`,
        { id },
      );
      const mine = subscribe<{ isTyping: boolean }>(
        client(a),
        `subscription($id: ID!) { typingChanged(conversationId: $id) { isTyping } }`,
        { id },
      );
      const SET = `mutation($id: ID!, $t: Boolean!) { setTyping(conversationId: $id, isTyping: $t) }`;
      const probe = setInterval(() => void app.gql(SET, { id, t: true }, a.token), 150);
      await typing.until((x) => x.length >= 1).finally(() => clearInterval(probe));
      expect(typing.items[0]).toMatchObject({ isTyping: true, user: { id: a.id } });
      // Renewals do not repeat "typing"; an explicit stop is announced.
      ok(await app.gql(SET, { id, t: true }, a.token));
      ok(await app.gql(SET, { id, t: false }, a.token));
      await typing.until((x) => x.length >= 2);
      expect(typing.items.map((t) => t.isTyping)).toEqual([true, false]);
      // Not renewed: it expires by itself (about 5 s) and that is announced.
      ok(await app.gql(SET, { id, t: true }, a.token));
      const expired = await typing.until((x) => x.length >= 4, 9_000);
      expect(expired.map((t) => t.isTyping)).toEqual([true, false, true, false]);
      expect(mine.items).toEqual([]); // nobody sees their own typing

      const receipts = subscribe<{ lastReadSeq: number; user: { id: string }; readAt: string }>(
        client(a),
        `subscription($id: ID!) { readReceiptUpdated(conversationId: $id) { lastReadSeq user { id } readAt } }`,
        { id },
      );
      const MARK = `mutation($m: ID!) { markRead(messageId: $m) { unreadCount } }`;
      const readProbe = setInterval(() => {
        void send(a, { conversationId: id, body: 'read me' }).then((m) =>
          app.gql(MARK, { m: m.id }, b.token),
        );
      }, 200);
      const got = await receipts
        .until((x) => x.length >= 1)
        .finally(() => clearInterval(readProbe));
      expect(got[0]!.user.id).toBe(b.id);
      expect(got[0]!.lastReadSeq).toBeGreaterThan(1);
      expect(Date.parse(got[0]!.readAt)).not.toBeNaN();
    },
  );

  it.skipIf(!available)(
    'marks a message DELIVERED once it is pushed to the recipient',
    async () => {
      const { a, b, id } = await chat();
      const live = subscribe<Added>(client(b), ADDED, { id, after: cursorOf(1) });
      const msg = await send(a, { conversationId: id, body: 'are you there?' });
      await live.until((x) => x.length >= 1);
      const status = async () =>
        ok(
          await app.gql<{ conversation: { lastMessage: { status: string } } }>(
            `query($id: ID!) { conversation(id: $id) { lastMessage { status } } }`,
            { id },
            a.token,
          ),
        ).conversation.lastMessage.status;
      const deadline = Date.now() + 5_000;
      let seen = await status();
      while (seen !== 'DELIVERED' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        seen = await status();
      }
      expect(seen).toBe('DELIVERED');
      expect(msg.seq).toBe(2);
    },
  );

  it.skipIf(!available)(
    'takes the token under an Authorization key of any case, or as a Bearer header on the upgrade',
    async () => {
      const user = await registerUser(app, 'Case');
      const me = async (c: Client) => {
        clients.push(c);
        const answer = subscribe<{ displayName: string }>(c, '{ me { displayName } }');
        await answer.ended();
        return answer;
      };
      // IDEs forward their headers pane as connection params, capitalized.
      for (const key of ['Authorization', 'AUTHORIZATION']) {
        const params = { [key]: `Bearer ${user.token}` };
        const answer = await me(connect(app.wsUrl, undefined, { connectionParams: params }));
        expect(answer.items).toEqual([{ displayName: 'Case' }]);
      }
      // A client that can set headers sends the token with the upgrade, and an empty payload.
      const headers = { Authorization: `Bearer ${user.token}` };
      const viaHeader = await me(connect(app.wsUrl, undefined, { headers }));
      expect(viaHeader.items).toEqual([{ displayName: 'Case' }]);
      const badHeader = await me(
        connect(app.wsUrl, undefined, { headers: { Authorization: 'Bearer not-a-token' } }),
      );
      expect(badHeader.items).toEqual([]);
      expect(badHeader.errors[0]?.extensions?.['closeCode']).toBe(4401);
    },
  );

  it.skipIf(!available)(
    'closes sockets without a valid token (4401) or without connection_init (4408)',
    async () => {
      const user = await registerUser(app);
      for (const token of [undefined, 'not-a-token', user.token.slice(0, -3) + 'abc']) {
        const c = connect(app.wsUrl, token);
        clients.push(c);
        const sub = subscribe(c, ADDED, {});
        await sub.ended();
        expect(sub.errors[0]?.extensions?.['closeCode']).toBe(4401);
      }
      const code = await new Promise<number>((resolve) => {
        const socket = new WebSocket(app.wsUrl, 'graphql-transport-ws');
        socket.on('close', (c) => resolve(c));
      });
      expect(code).toBe(4408);
    },
  );
});
