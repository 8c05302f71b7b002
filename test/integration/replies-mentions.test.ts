// Replies and mentions on both backends: a reply names its parent, which counts and pages its
// thread; mentions name members, count in their unreadMentionCount and follow the read position;
// what is refused writes nothing, and non-members can neither reply, mention nor see a thread;
// live and resumed messageAdded events carry both; concurrent replies count exactly.
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { encodeMessageId } from '../../src/domain/ids.js';
import {
  backends,
  errorCode,
  ok,
  registerUser,
  startApp,
  type GraphQLResponse,
  type TestApp,
  type TestUser,
} from '../support/app.js';
import { connect, probe, subscribe } from '../support/ws.js';

const FIELDS = `id seq cursor body deletedAt replyCount
  replyTo { id seq body deletedAt sender { id } }
  mentions { id }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { ${FIELDS} } }`;
const REPLIES = `query($m: ID!, $first: Int, $after: String) {
  node(id: $m) { ... on Message { replyCount replies(first: $first, after: $after) {
    edges { cursor node { seq body replyTo { seq } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  } } }
}`;
const UNREAD = `query($c: ID!) { conversation(id: $c) { unreadCount unreadMentionCount } }`;

interface Sent {
  id: string;
  seq: number;
  cursor: string;
  body: string | null;
  deletedAt: string | null;
  replyCount: number;
  replyTo: {
    id: string;
    seq: number;
    body: string | null;
    deletedAt: string | null;
    sender: { id: string };
  } | null;
  mentions: { id: string }[];
}

interface RepliesPage {
  replyCount: number;
  replies: {
    edges: { cursor: string; node: { seq: number; body: string; replyTo: { seq: number } } }[];
    pageInfo: {
      hasNextPage: boolean;
      hasPreviousPage: boolean;
      startCursor: string | null;
      endCursor: string | null;
    };
  };
}

describe.each(backends())('replies and mentions on $name', ({ name, available }) => {
  let app: TestApp;
  let people: Record<'a' | 'b' | 'c' | 'dan' | 'eve', TestUser>;
  const clients: Client[] = [];
  beforeAll(async () => {
    if (!available) return;
    app = await startApp(name);
    const names = ['A', 'B', 'C', 'Dan', 'Eve'];
    const [a, b, c, dan, eve] = await Promise.all(names.map((n) => registerUser(app, n)));
    people = { a: a!, b: b!, c: c!, dan: dan!, eve: eve! };
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
  const trySend = (user: TestUser, input: Record<string, unknown>) =>
    app.gql<{ sendMessage: Sent }>(SEND, { input }, user.token);
  const send = async (user: TestUser, input: Record<string, unknown>) =>
    ok(await trySend(user, input)).sendMessage;
  const repliesOf = async (user: TestUser, m: string, first?: number, after?: string | null) =>
    ok(
      await app.gql<{ node: RepliesPage | null }>(
        REPLIES,
        { m, ...(first !== undefined ? { first } : {}), ...(after ? { after } : {}) },
        user.token,
      ),
    ).node!;
  const unread = async (user: TestUser, c: string) =>
    ok(
      await app.gql<{ conversation: { unreadCount: number; unreadMentionCount: number } }>(
        UNREAD,
        { c },
        user.token,
      ),
    ).conversation;
  const mutate = async (user: TestUser, field: string, m: string) =>
    ok(await app.gql(`mutation($m: ID!) { ${field}(messageId: $m) { id } }`, { m }, user.token));
  const count = async (query: ReturnType<typeof sql>) =>
    (await queryRows<{ n: number }>(app.database.db, query))[0]!.n;
  /** What a refused send must leave as it was. */
  const written = async (conversationId: string) => ({
    lastSeq: await count(
      sql`select last_seq as n from conversations where id = ${conversationId}::uuid`,
    ),
    replies: await count(
      sql`select coalesce(sum(reply_count), 0)::int as n from messages where conversation_id = ${conversationId}::uuid`,
    ),
    mentions: await count(
      sql`select count(*)::int as n from message_mentions where conversation_id = ${conversationId}::uuid`,
    ),
  });

  /**
   * A group of A, B and C with a message of A's: a new conversation per case, among the same
   * people (registering is the slow part); Dan and Eve are in none of them to begin with.
   */
  async function room() {
    const { a, b, c } = people;
    const id = ok(
      await app.gql<{ createGroupConversation: { id: string } }>(
        `mutation($input: CreateGroupConversationInput!) { createGroupConversation(input: $input) { id } }`,
        { input: { title: 'threads', memberPhones: [b.phone, c.phone] } },
        a.token,
      ),
    ).createGroupConversation.id;
    const parent = await send(a, { conversationId: id, body: 'Where shall we eat?' });
    return { a, b, c, id, parent };
  }

  it.skipIf(!available)(
    'a reply names its parent, which counts and pages its thread oldest first',
    async () => {
      const { a, b, c, id, parent } = await room();
      expect(parent).toMatchObject({ replyTo: null, replyCount: 0, mentions: [] });
      const first = await send(b, { conversationId: id, body: 'Pizza', replyToId: parent.id });
      expect(first.replyTo).toEqual({
        id: parent.id,
        seq: parent.seq,
        body: 'Where shall we eat?',
        deletedAt: null,
        sender: { id: a.id },
      });
      await send(a, { conversationId: id, body: 'not in the thread' });
      const second = await send(c, { conversationId: id, body: 'Sushi', replyToId: parent.id });
      // A reply to a reply starts its own thread; the first one is not counted twice.
      await send(a, { conversationId: id, body: 'Which one?', replyToId: first.id });

      const page = await repliesOf(c, parent.id, 1);
      expect(page.replyCount).toBe(2);
      expect(page.replies.edges.map((e) => e.node)).toEqual([
        { seq: first.seq, body: 'Pizza', replyTo: { seq: parent.seq } },
      ]);
      // Cursors are those of `messages` edges.
      expect(page.replies.edges[0]!.cursor).toBe(first.cursor);
      expect(page.replies.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
      const next = await repliesOf(c, parent.id, 10, page.replies.pageInfo.endCursor);
      expect(next.replies.edges.map((e) => e.node.seq)).toEqual([second.seq]);
      expect(next.replies.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
      const all = await repliesOf(b, parent.id);
      expect(all.replies.edges.map((e) => e.node.body)).toEqual(['Pizza', 'Sushi']);
      expect((await repliesOf(b, first.id)).replyCount).toBe(1);

      // first: 0 to 100 (default 50).
      for (const bad of [101, -1]) {
        const res = await app.gql(REPLIES, { m: parent.id, first: bad }, b.token);
        expect(errorCode(res), String(bad)).toBe('BAD_USER_INPUT');
        expect(res.errors![0]!.extensions!['field']).toBe('first');
      }
      expect(errorCode(await app.gql(REPLIES, { m: parent.id, after: 'nope' }, b.token))).toBe(
        'BAD_USER_INPUT',
      );
      const more = await send(a, { conversationId: id, body: 'Long thread' });
      await Promise.all(
        Array.from({ length: 51 }, (_, i) =>
          send(b, { conversationId: id, body: `r${i}`, replyToId: more.id }),
        ),
      );
      const byDefault = await repliesOf(a, more.id);
      expect(byDefault.replyCount).toBe(51);
      expect(byDefault.replies.edges).toHaveLength(50);
      expect(byDefault.replies.pageInfo.hasNextPage).toBe(true);
      const rest = await repliesOf(a, more.id, 100, byDefault.replies.pageInfo.endCursor);
      expect(rest.replies.edges).toHaveLength(1);
      const seqs = [...byDefault.replies.edges, ...rest.replies.edges].map((e) => e.node.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    },
  );

  it.skipIf(!available)(
    "reads a page's parents, threads and mentioned users in one statement each",
    async () => {
      const { a, b, c, id, parent } = await room();
      const r1 = await send(b, { conversationId: id, body: 'one', replyToId: parent.id });
      await send(c, {
        conversationId: id,
        body: 'two',
        replyToId: r1.id,
        mentionUserIds: [a.id, b.id],
      });
      await send(a, { conversationId: id, body: 'three', mentionUserIds: [c.id] });
      const before = app.statements.length;
      const page = ok(
        await app.gql<{
          messages: {
            edges: { node: { replyTo: { seq: number } | null; mentions: { id: string }[] } }[];
          };
        }>(
          `query($c: ID!) { messages(conversationId: $c, last: 50) { edges { node {
            replyTo { seq body } mentions { id displayName }
            replies(first: 3) { edges { node { body } } }
          } } } }`,
          { c: id },
          a.token,
        ),
      ).messages.edges.map((e) => e.node);
      const issued = app.statements.slice(before);
      expect(issued.filter((q) => /m\.reply_to_seq = p\.seq/.test(q))).toHaveLength(1);
      expect(issued.filter((q) => /from "users"/.test(q))).toHaveLength(1);
      expect(issued.filter((q) => /from "messages" where/.test(q))).toHaveLength(1);
      expect(page.map((m) => m.replyTo?.seq ?? null)).toEqual([null, parent.seq, r1.seq, null]);
      expect(page.map((m) => m.mentions.map((u) => u.id))).toEqual([[], [], [a.id, b.id], [c.id]]);

      // A page of a time window (its own statement, db/message-windows.ts) carries them too.
      const windowed = ok(
        await app.gql<{
          messages: {
            edges: { node: { replyTo: { seq: number } | null; mentions: { id: string }[] } }[];
          };
        }>(
          `query($c: ID!, $since: DateTime!) { messages(conversationId: $c, first: 50, since: $since) {
            edges { node { replyTo { seq } mentions { id } } }
          } }`,
          { c: id, since: '2000-01-01T00:00:00Z' },
          b.token,
        ),
      ).messages.edges.map((e) => e.node);
      expect(windowed).toEqual(
        page.map((m) => ({
          replyTo: m.replyTo && { seq: m.replyTo.seq },
          mentions: m.mentions.map((u) => ({ id: u.id })),
        })),
      );
    },
  );

  it.skipIf(!available)(
    'refuses a reply to a message elsewhere, unknown, deleted or SYSTEM, and writes nothing',
    async () => {
      const { a, b, id, parent } = await room();
      const other = await room();
      const { dan } = people;
      // A SYSTEM message: Dan joining.
      ok(
        await app.gql(
          `mutation($id: ID!, $p: [String!]!) { addMembers(conversationId: $id, phones: $p) { id } }`,
          { id, p: [dan.phone] },
          a.token,
        ),
      );
      const system = encodeMessageId({ conversationId: id, seq: parent.seq + 1 });
      const gone = await send(a, { conversationId: id, body: 'soon gone' });
      await mutate(a, 'deleteMessage', gone.id);
      const start = await written(id);

      const cases: [string, string, string][] = [
        [other.parent.id, 'NOT_FOUND', 'replyToId'],
        [encodeMessageId({ conversationId: id, seq: 999 }), 'NOT_FOUND', 'replyToId'],
        [encodeMessageId({ conversationId: randomUUID(), seq: 1 }), 'NOT_FOUND', 'replyToId'],
        ['not-a-message-id', 'NOT_FOUND', 'replyToId'],
        [gone.id, 'BAD_USER_INPUT', 'replyToId'],
        [system, 'BAD_USER_INPUT', 'replyToId'],
      ];
      for (const [replyToId, code, field] of cases) {
        const res = await trySend(b, { conversationId: id, body: 'hm', replyToId });
        expect(errorCode(res), replyToId).toBe(code);
        expect(res.errors![0]!.extensions!['field'], replyToId).toBe(field);
      }
      // With toPhone: the 1:1 it would open is not opened.
      const conversationsOf = async (user: TestUser) =>
        ok(
          await app.gql<{ conversations: { edges: unknown[] } }>(
            `{ conversations(first: 50) { edges { node { id } } } }`,
            {},
            user.token,
          ),
        ).conversations.edges.length;
      const had = await conversationsOf(dan);
      const viaPhone = await trySend(dan, { toPhone: b.phone, body: 'hm', replyToId: parent.id });
      expect(errorCode(viaPhone)).toBe('NOT_FOUND');
      expect(await conversationsOf(dan)).toBe(had);
      expect(await written(id)).toEqual(start);
    },
  );

  it.skipIf(!available)(
    'mentions: current members only, at most 50, each once in the given order',
    async () => {
      const { a, b, c, id } = await room();
      const { eve } = people;
      const start = await written(id);
      const refused: [unknown[], string][] = [
        [[b.id, eve.id], 'BAD_USER_INPUT'],
        [[randomUUID()], 'BAD_USER_INPUT'],
        [['not-a-user'], 'BAD_USER_INPUT'],
        [Array.from({ length: 51 }, () => randomUUID()), 'BAD_USER_INPUT'],
      ];
      for (const [mentionUserIds, code] of refused) {
        const res = await trySend(a, { conversationId: id, body: '@you', mentionUserIds });
        expect(errorCode(res)).toBe(code);
        expect(res.errors![0]!.extensions!['field']).toBe('mentionUserIds');
      }
      expect(await written(id)).toEqual(start);

      // The sender may name themselves (shown, but never counted for them).
      const m = await send(a, {
        conversationId: id,
        body: '@C @B @C @A',
        mentionUserIds: [c.id, b.id, c.id, a.id],
      });
      expect(m.mentions.map((u) => u.id)).toEqual([c.id, b.id, a.id]);
      expect((await written(id)).mentions).toBe(start.mentions + 2);
      expect((await unread(a, id)).unreadMentionCount).toBe(0);
      expect((await unread(b, id)).unreadMentionCount).toBe(1);

      // A member who left can no longer be mentioned.
      ok(
        await app.gql(
          `mutation($id: ID!) { leaveConversation(conversationId: $id) }`,
          { id },
          c.token,
        ),
      );
      const afterLeaving = await trySend(a, {
        conversationId: id,
        body: '@C',
        mentionUserIds: [c.id],
      });
      expect(errorCode(afterLeaving)).toBe('BAD_USER_INPUT');
    },
  );

  it.skipIf(!available)(
    'non-members can neither reply, mention nor see a thread: NOT_FOUND',
    async () => {
      const { a, b, id, parent } = await room();
      await send(b, { conversationId: id, body: 'inside', replyToId: parent.id });
      const { eve } = people;
      const start = await written(id);
      const attempts: GraphQLResponse<unknown>[] = [
        await trySend(eve, { conversationId: id, body: 'me too', replyToId: parent.id }),
        await trySend(eve, { conversationId: id, body: '@A', mentionUserIds: [a.id] }),
        await trySend(eve, { conversationId: id, body: '@Eve', mentionUserIds: [eve.id] }),
      ];
      for (const res of attempts) expect(errorCode(res)).toBe('NOT_FOUND');
      expect(
        ok(await app.gql<{ node: unknown }>(REPLIES, { m: parent.id }, eve.token)).node,
      ).toBeNull();
      expect(
        errorCode(
          await app.gql(
            `query($c: ID!) { messages(conversationId: $c, last: 5) { edges { node { replies { edges { node { body } } } } } } }`,
            { c: id },
            eve.token,
          ),
        ),
      ).toBe('NOT_FOUND');
      expect(await written(id)).toEqual(start);
    },
  );

  it.skipIf(!available)(
    'a deleted parent shows as a tombstone; a deleted message mentions nobody',
    async () => {
      const { a, b, c, id, parent } = await room();
      const reply = await send(b, {
        conversationId: id,
        body: 'answer',
        replyToId: parent.id,
        mentionUserIds: [c.id],
      });
      await mutate(a, 'deleteMessage', parent.id);
      const seen = ok(
        await app.gql<{ node: Sent }>(
          `query($m: ID!) { node(id: $m) { ... on Message { ${FIELDS} } } }`,
          { m: reply.id },
          c.token,
        ),
      ).node;
      expect(seen.replyTo).toMatchObject({ id: parent.id, body: null, sender: { id: a.id } });
      expect(seen.replyTo!.deletedAt).not.toBeNull();
      expect(seen.mentions).toEqual([{ id: c.id }]);
      // The thread stays (the tombstone still counts its replies).
      expect((await repliesOf(c, parent.id)).replies.edges.map((e) => e.node.seq)).toEqual([
        reply.seq,
      ]);
      expect((await unread(c, id)).unreadMentionCount).toBe(1);
      await mutate(b, 'deleteMessage', reply.id);
      const deleted = ok(
        await app.gql<{ node: Sent }>(
          `query($m: ID!) { node(id: $m) { ... on Message { ${FIELDS} } } }`,
          { m: reply.id },
          c.token,
        ),
      ).node;
      expect(deleted).toMatchObject({ body: null, mentions: [] });
      expect((await unread(c, id)).unreadMentionCount).toBe(0);
    },
  );

  it.skipIf(!available)(
    'unreadMentionCount follows markRead and markUnread, per conversation of a list',
    async () => {
      const { a, b, c, id } = await room();
      const m1 = await send(a, { conversationId: id, body: '@B one', mentionUserIds: [b.id] });
      await send(a, { conversationId: id, body: '@C', mentionUserIds: [c.id] });
      const m3 = await send(c, { conversationId: id, body: '@B two', mentionUserIds: [b.id] });
      await send(a, { conversationId: id, body: 'no one' });
      expect(await unread(b, id)).toEqual({ unreadCount: 5, unreadMentionCount: 2 });
      await mutate(b, 'markRead', m1.id);
      expect((await unread(b, id)).unreadMentionCount).toBe(1);
      await mutate(b, 'markRead', m3.id);
      expect((await unread(b, id)).unreadMentionCount).toBe(0);
      const back = ok(
        await app.gql<{ markUnread: { unreadMentionCount: number } }>(
          `mutation($m: ID!) { markUnread(messageId: $m) { unreadMentionCount } }`,
          { m: m1.id },
          b.token,
        ),
      ).markUnread;
      expect(back.unreadMentionCount).toBe(2);

      // In the conversation list, one statement for all of them.
      const second = await room();
      await send(c, { conversationId: second.id, body: '@B', mentionUserIds: [b.id] });
      const before = app.statements.length;
      const list = ok(
        await app.gql<{
          conversations: { edges: { node: { id: string; unreadMentionCount: number } }[] };
        }>(
          `{ conversations(first: 50) { edges { node { id unreadMentionCount } } } }`,
          {},
          b.token,
        ),
      ).conversations.edges.map((e) => e.node);
      expect(
        app.statements.slice(before).filter((q) => /from message_mentions/.test(q)),
      ).toHaveLength(1);
      const counts = Object.fromEntries(list.map((n) => [n.id, n.unreadMentionCount]));
      expect([counts[id], counts[second.id]]).toEqual([2, 1]);
    },
  );

  it.skipIf(!available)(
    'messageAdded carries replyTo and mentions, live and when resumed',
    async () => {
      const { a, b, c, id, parent } = await room();
      const ADDED = `subscription($id: ID, $after: String) {
        messageAdded(conversationId: $id, after: $after) {
          seq body replyCount replyTo { seq body sender { id } } mentions { id displayName }
        }
      }`;
      interface Added {
        seq: number;
        body: string;
        replyCount: number;
        replyTo: { seq: number; body: string; sender: { id: string } } | null;
        mentions: { id: string; displayName: string }[];
      }
      const live = subscribe<Added>(client(c), ADDED, { id });
      const all = subscribe<Added>(client(c), ADDED, {});
      await probe(live, () => send(a, { conversationId: id, body: 'probe' }));
      await probe(all, () => send(a, { conversationId: id, body: 'probe' }));
      const reply = await send(b, {
        conversationId: id,
        body: '@C agreed',
        replyToId: parent.id,
        mentionUserIds: [c.id],
      });
      const expected = {
        seq: reply.seq,
        body: '@C agreed',
        replyCount: 0,
        replyTo: { seq: parent.seq, body: 'Where shall we eat?', sender: { id: a.id } },
        mentions: [{ id: c.id, displayName: 'C' }],
      };
      for (const stream of [live, all]) {
        const items = await stream.until((got) => got.some((m) => m.seq === reply.seq));
        expect(items.find((m) => m.seq === reply.seq)).toEqual(expected);
      }
      // Resumed from the parent's cursor: replayed from the database, the same.
      const resumed = subscribe<Added>(client(c), ADDED, { id, after: parent.cursor });
      const replayed = await resumed.until((got) => got.some((m) => m.seq === reply.seq));
      expect(replayed.find((m) => m.seq === reply.seq)).toEqual(expected);
      live.stop();
      all.stop();
      resumed.stop();
    },
  );

  it.skipIf(!available)(
    'replies at once count exactly, with gap-free seqs; a retried reply counts once',
    async () => {
      const { a, b, c, id, parent } = await room();
      const senders = [a, b, c];
      const replies = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          send(senders[i % 3]!, { conversationId: id, body: `r${i}`, replyToId: parent.id }),
        ),
      );
      const seqs = replies.map((r) => r.seq).sort((x, y) => x - y);
      expect(seqs).toEqual(Array.from({ length: 10 }, (_, i) => parent.seq + 1 + i));
      const thread = await repliesOf(a, parent.id);
      expect(thread.replyCount).toBe(10);
      expect(thread.replies.edges.map((e) => e.node.seq)).toEqual(seqs);

      const target = replies[0]!;
      const clientMessageId = randomUUID();
      const input = {
        conversationId: id,
        body: 'once',
        replyToId: target.id,
        mentionUserIds: [a.id],
        clientMessageId,
      };
      const twice = await Promise.all([send(b, input), send(b, input)]);
      expect(twice[0]!.id).toBe(twice[1]!.id);
      expect(twice[0]!.mentions).toEqual([{ id: a.id }]);
      // Again later, after the target was deleted: still the original, still counted once.
      await mutate(senders[0]!, 'deleteMessage', target.id);
      expect((await send(b, input)).id).toBe(twice[0]!.id);
      expect((await repliesOf(c, target.id)).replyCount).toBe(1);
      expect(
        await count(
          sql`select count(*)::int as n from messages where conversation_id = ${id}::uuid and client_message_id = ${clientMessageId}`,
        ),
      ).toBe(1);
      expect(
        await count(
          sql`select count(*)::int as n from message_mentions where conversation_id = ${id}::uuid and user_id = ${a.id}::uuid`,
        ),
      ).toBe(1);
    },
  );
});
