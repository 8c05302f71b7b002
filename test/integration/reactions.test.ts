// Reactions on both backends: adding, grouping and taking back; the same reaction at once is
// one; what is refused writes nothing; non-members see and touch nothing; subscribers of
// messageUpdated hear of a change (and only of a change), and a resumed stream replays it.
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

interface Group {
  emoji: string;
  count: number;
  reactedByMe: boolean;
  users: { id: string }[];
}
interface Reacted {
  id: string;
  seq: number;
  reactions: Group[];
}

const GROUPS = `reactions { emoji count reactedByMe users { id } }`;
const ADD = `mutation($m: ID!, $e: String!) { addReaction(messageId: $m, emoji: $e) { id seq ${GROUPS} } }`;
const REMOVE = `mutation($m: ID!, $e: String!) { removeReaction(messageId: $m, emoji: $e) { id seq ${GROUPS} } }`;
const UPDATED = `subscription($id: ID, $after: String) {
  messageUpdated(conversationId: $id, after: $after) {
    seq status streamCursor reactions { emoji count reactedByMe }
  }
}`;

interface Update {
  seq: number;
  status: string;
  streamCursor: string;
  reactions: Omit<Group, 'users'>[];
}

/** emoji → count, in group order: what a client would draw. */
const counts = (groups: readonly Pick<Group, 'emoji' | 'count'>[]) =>
  groups.map((g) => `${g.emoji}${g.count}`);

describe.each(backends())('reactions on $name', ({ name, available }) => {
  let app: TestApp;
  const clients: Client[] = [];
  beforeAll(async () => {
    if (available) app = await startApp(name);
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
  const add = (user: TestUser, m: string, e: string) =>
    app.gql<{ addReaction: Reacted }>(ADD, { m, e }, user.token);
  const remove = (user: TestUser, m: string, e: string) =>
    app.gql<{ removeReaction: Reacted }>(REMOVE, { m, e }, user.token);
  const send = async (user: TestUser, conversationId: string, body: string) =>
    ok(
      await app.gql<{ sendMessage: { id: string; seq: number } }>(
        `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }`,
        { input: { conversationId, body } },
        user.token,
      ),
    ).sendMessage;
  const reactionsOf = async (user: TestUser, conversationId: string) =>
    ok(
      await app.gql<{ messages: { edges: { node: Reacted }[] } }>(
        `query($c: ID!) { messages(conversationId: $c, last: 100) { edges { node { id seq ${GROUPS} } } } }`,
        { c: conversationId },
        user.token,
      ),
    ).messages.edges.map((e) => e.node);
  const rowsOf = async (conversationId: string) =>
    (
      await queryRows<{ n: number }>(
        app.database.db,
        sql`select count(*)::int as n from message_reactions where conversation_id = ${conversationId}::uuid`,
      )
    )[0]!.n;
  const changePosition = async (conversationId: string) =>
    (
      await queryRows<{ p: number }>(
        app.database.db,
        sql`select last_change_seq as p from conversations where id = ${conversationId}::uuid`,
      )
    )[0]!.p;

  /** A group of three (A, B, C) with a message of A's. */
  async function room() {
    const [a, b, c] = await Promise.all(
      ['A', 'B', 'C'].map((n) => registerUser(app, n)) as [
        Promise<TestUser>,
        Promise<TestUser>,
        Promise<TestUser>,
      ],
    );
    const id = ok(
      await app.gql<{ createGroupConversation: { id: string } }>(
        `mutation($input: CreateGroupConversationInput!) { createGroupConversation(input: $input) { id } }`,
        { input: { title: 'reactions', memberPhones: [b.phone, c.phone] } },
        a.token,
      ),
    ).createGroupConversation.id;
    const message = await send(a, id, 'react to me');
    return { a, b, c, id, message };
  }

  it.skipIf(!available)(
    'groups reactions by emoji in first-use order, with counts, reactedByMe and who',
    async () => {
      const { a, b, c, id, message } = await room();
      const m = message.id;
      const unread = async (user: TestUser) =>
        ok(
          await app.gql<{ conversation: { unreadCount: number } }>(
            `query($c: ID!) { conversation(id: $c) { unreadCount } }`,
            { c: id },
            user.token,
          ),
        ).conversation.unreadCount;
      expect(await unread(b)).toBe(1);

      const first = ok(await add(b, m, '👍')).addReaction;
      expect(first).toMatchObject({ id: m, seq: message.seq });
      expect(first.reactions).toEqual([
        { emoji: '👍', count: 1, reactedByMe: true, users: [{ id: b.id }] },
      ]);
      ok(await add(a, m, '❤️'));
      ok(await add(c, m, '👍'));
      ok(await add(a, m, ':party_parrot:'));
      const seen = ok(await add(a, m, '👍')).addReaction.reactions;
      expect(counts(seen)).toEqual(['👍3', '❤️1', ':party_parrot:1']);
      expect(seen[0]!.users.map((u) => u.id)).toEqual([b.id, c.id, a.id]);
      expect(seen.map((g) => g.reactedByMe)).toEqual([true, true, true]);

      // As each member sees it: reactedByMe is theirs, `users(first)` the earliest.
      const [ofC] = await reactionsOf(c, id);
      expect(ofC!.reactions.map((g) => g.reactedByMe)).toEqual([true, false, false]);
      const few = ok(
        await app.gql<{ messages: { edges: { node: { reactions: Group[] } }[] } }>(
          `query($c: ID!) { messages(conversationId: $c, last: 1) { edges { node { reactions { emoji users(first: 1) { id } } } } } }`,
          { c: id },
          c.token,
        ),
      ).messages.edges[0]!.node.reactions;
      expect(few[0]!.users).toEqual([{ id: b.id }]);
      const tooMany = await app.gql(
        `query($c: ID!) { messages(conversationId: $c, last: 1) { edges { node { reactions { users(first: 21) { id } } } } } }`,
        { c: id },
        c.token,
      );
      expect(errorCode(tooMany)).toBe('BAD_USER_INPUT');

      // Taking back: the count drops, and an emoji's place follows the earliest reaction that
      // still stands (B's 👍 was the first; C's comes after A's ❤️).
      const less = ok(await remove(b, m, '👍')).removeReaction.reactions;
      expect(counts(less)).toEqual(['❤️1', '👍2', ':party_parrot:1']);
      expect(less[1]).toMatchObject({ reactedByMe: false, users: [{ id: c.id }, { id: a.id }] });
      // An emoji nobody has any more is gone; used again later, it comes after the others.
      ok(await remove(a, m, '❤️'));
      const left = ok(await remove(a, m, ':party_parrot:')).removeReaction.reactions;
      expect(counts(left)).toEqual(['👍2']);
      expect(counts(ok(await add(b, m, '❤️')).addReaction.reactions)).toEqual(['👍2', '❤️1']);

      // Reacting reads nothing: B's unread count and read receipts stay as they were.
      expect(await unread(b)).toBe(1);
      expect(await unread(c)).toBe(1);
    },
  );

  it.skipIf(!available)('reads the reactions of a page in one statement', async () => {
    const { a, b, id, message } = await room();
    const more = [await send(b, id, 'two'), await send(a, id, 'three')];
    ok(await add(b, message.id, '👍'));
    ok(await add(a, more[0]!.id, '🎉'));
    ok(await add(b, more[1]!.id, '🎉'));
    const before = app.statements.length;
    const page = await reactionsOf(a, id);
    const reads = app.statements.slice(before).filter((q) => /from "message_reactions"/.test(q));
    expect(reads).toHaveLength(1);
    expect(page.map((p) => counts(p.reactions))).toEqual([['👍1'], ['🎉1'], ['🎉1']]);
  });

  it.skipIf(!available)('keeps one reaction however often it is added', async () => {
    const { a, b, id, message } = await room();
    const start = await changePosition(id);
    ok(await add(b, message.id, '🔥'));
    const again = ok(await add(b, message.id, '🔥')).addReaction.reactions;
    expect(counts(again)).toEqual(['🔥1']);
    expect(await changePosition(id)).toBe(start + 1);

    const burst = await Promise.all(Array.from({ length: 10 }, () => add(a, message.id, '🚀')));
    burst.forEach((res) => ok(res));
    expect(counts(ok(await add(a, message.id, '🚀')).addReaction.reactions)).toEqual([
      '🔥1',
      '🚀1',
    ]);
    expect(await rowsOf(id)).toBe(2);
    // One change (one event) for the ten, none for the repeats; none for taking back nothing.
    expect(await changePosition(id)).toBe(start + 2);
    expect(counts(ok(await remove(a, message.id, '👀')).removeReaction.reactions)).toEqual([
      '🔥1',
      '🚀1',
    ]);
    expect(await changePosition(id)).toBe(start + 2);
  });

  it.skipIf(!available)('refuses what is not one emoji, and writes nothing', async () => {
    const { b, id, message } = await room();
    for (const emoji of ['', 'ok', '1', '👍👍', '🏽', ' 👍', ':Nope:', 'x'.repeat(100)]) {
      const res = await add(b, message.id, emoji);
      expect(errorCode(res), JSON.stringify(emoji)).toBe('BAD_USER_INPUT');
      expect(res.errors![0]!.extensions!['field']).toBe('emoji');
      expect(errorCode(await remove(b, message.id, emoji))).toBe('BAD_USER_INPUT');
    }
    expect(await rowsOf(id)).toBe(0);
  });

  it.skipIf(!available)('takes at most 20 different emojis on a message', async () => {
    const { a, b, id, message } = await room();
    const emojis = Array.from({ length: 20 }, (_, i) => `:e${i}:`);
    for (const e of emojis) ok(await add(a, message.id, e));
    const full = await add(b, message.id, '👍');
    expect(errorCode(full)).toBe('BAD_USER_INPUT');
    expect(full.errors![0]!.extensions!['field']).toBe('emoji');
    // One of the twenty still takes more people.
    expect(ok(await add(b, message.id, ':e0:')).addReaction.reactions[0]).toMatchObject({
      emoji: ':e0:',
      count: 2,
    });
    expect(await rowsOf(id)).toBe(21);
  });

  it.skipIf(!available)('lets only members react, and to messages that still exist', async () => {
    const { a, b, id, message } = await room();
    const eve = await registerUser(app, 'Eve');
    ok(await add(b, message.id, '👍'));
    const denied: GraphQLResponse<unknown>[] = [
      await add(eve, message.id, '👍'),
      await remove(eve, message.id, '👍'),
      await remove(eve, message.id, '🎉'),
      await add(eve, 'not-a-message-id', '👍'),
      await add(a, encodeMessageId({ conversationId: randomUUID(), seq: 1 }), '👍'),
      await add(a, encodeMessageId({ conversationId: id, seq: 999 }), '👍'),
    ];
    for (const res of denied) expect(errorCode(res)).toBe('NOT_FOUND');
    const seen = await app.gql<{ conversation: unknown }>(
      `query($c: ID!) { conversation(id: $c) { id messages(last: 1) { edges { node { ${GROUPS} } } } } }`,
      { c: id },
      eve.token,
    );
    expect(seen.data?.conversation ?? null).toBeNull();
    expect(
      ok(
        await app.gql<{ node: unknown }>(
          `query($m: ID!) { node(id: $m) { id ... on Message { ${GROUPS} } } }`,
          { m: message.id },
          eve.token,
        ),
      ).node,
    ).toBeNull();
    expect(await rowsOf(id)).toBe(1);

    // Deleted: its reactions are gone from view, and it takes no more.
    ok(
      await app.gql(
        `mutation($m: ID!) { deleteMessage(messageId: $m) { id } }`,
        { m: message.id },
        a.token,
      ),
    );
    expect((await reactionsOf(b, id))[0]!.reactions).toEqual([]);
    expect(errorCode(await add(b, message.id, '🎉'))).toBe('BAD_USER_INPUT');
    expect(errorCode(await remove(b, message.id, '👍'))).toBe('BAD_USER_INPUT');
  });

  it.skipIf(!available)(
    'announces each change to messageUpdated subscribers (and nothing else), and replays it',
    async () => {
      const { a, b, c, id, message } = await room();
      const m = message.id;
      // B and C have read the message: a reaction event shows it READ to its sender, not new.
      for (const reader of [b, c]) {
        ok(
          await app.gql(
            `mutation($m: ID!) { markRead(messageId: $m) { id } }`,
            { m },
            reader.token,
          ),
        );
      }
      const ofA = subscribe<Update>(client(a), UPDATED, { id });
      const ofB = subscribe<Update>(client(b), UPDATED, { id });
      const ofAll = subscribe<Update>(client(b), UPDATED, {});
      // Live once a toggle of A's arrives (each probe adds or takes back 👋).
      let toggles = 0;
      const toggle = () => (toggles++ % 2 === 0 ? add(a, m, '👋') : remove(a, m, '👋'));
      await probe(ofA, toggle);
      await probe(ofB, toggle);
      await probe(ofAll, toggle);
      if (toggles % 2 === 1) ok(await remove(a, m, '👋'));
      await new Promise((r) => setTimeout(r, 300));
      const mark = [ofA, ofB, ofAll].map((s) => s.items.length);

      // Nothing changes: no event.
      ok(await remove(a, m, '🙃'));
      ok(await add(b, m, '🎉'));
      ok(await add(b, m, '🎉'));
      ok(await remove(a, m, '👋'));
      const [atA, atB, atAll] = await Promise.all(
        [ofA, ofB, ofAll].map((s, i) => s.until((items) => items.length >= mark[i]! + 1)),
      );
      // Only the one change arrived (wait a little for anything else).
      await new Promise((r) => setTimeout(r, 300));
      expect([ofA, ofB, ofAll].map((s, i) => s.items.length - mark[i]!)).toEqual([1, 1, 1]);
      const eventOfA = atA!.at(-1)!;
      const eventOfB = atB!.at(-1)!;
      expect(eventOfA).toMatchObject({ seq: message.seq, status: 'READ' });
      expect(eventOfA.reactions).toEqual([{ emoji: '🎉', count: 1, reactedByMe: false }]);
      expect(eventOfB.reactions).toEqual([{ emoji: '🎉', count: 1, reactedByMe: true }]);
      expect(atAll!.at(-1)!.reactions).toEqual(eventOfB.reactions);

      // Resumed from before the change (one conversation, and all of them): the message is
      // replayed once, at its newest change, with the reactions as they are now.
      const before = atA!.at(mark[0]! - 1)!.streamCursor;
      const beforeAll = atAll!.at(mark[2]! - 1)!.streamCursor;
      ok(await add(a, m, '💯'));
      for (const variables of [{ id, after: before }, { after: beforeAll }]) {
        const resumed = subscribe<Update>(client(b), UPDATED, variables);
        await resumed.until((items) => items.length >= 1);
        await new Promise((r) => setTimeout(r, 200));
        expect(resumed.items.map((u) => counts(u.reactions))).toEqual([['🎉1', '💯1']]);
        resumed.stop();
      }
    },
  );
});
