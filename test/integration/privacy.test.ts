// Muting a conversation and blocking a user, on both backends.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backends,
  errorCode,
  ok,
  registerUser,
  startApp,
  type TestApp,
  type TestUser,
} from '../support/app.js';
import { connect, subscribe } from '../support/ws.js';

const GROUP = `mutation($input: CreateGroupConversationInput!) { createGroupConversation(input: $input) { id } }`;
const DIRECT = `mutation($phone: String!) { startDirectConversation(phone: $phone) { id } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }`;
const MUTE = `mutation($id: ID!, $until: DateTime) { muteConversation(conversationId: $id, until: $until) { id isMuted mutedUntil unreadCount } }`;
const UNMUTE = `mutation($id: ID!) { unmuteConversation(conversationId: $id) { id isMuted mutedUntil } }`;
const BLOCK = `mutation($id: ID!) { blockUser(userId: $id) }`;
const UNBLOCK = `mutation($id: ID!) { unblockUser(userId: $id) }`;
const BLOCKED = `{ blockedUsers { id displayName } }`;
const MESSAGES = `query($id: ID!) { messages(conversationId: $id, last: 20) { edges { node { body senderBlocked sender { id } } } } }`;
const PRESENCE = `query($p: String!) { userByPhone(phone: $p) { presence { status } } }`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Mute {
  muteConversation: { isMuted: boolean; mutedUntil: string | null; unreadCount: number };
}

describe.each(backends())('muting and blocking on $name', ({ name, available }) => {
  let app: TestApp;
  beforeAll(async () => {
    if (available) app = await startApp(name);
  });
  afterAll(async () => app?.close());

  const group = async (owner: TestUser, members: TestUser[]) =>
    ok(
      await app.gql<{ createGroupConversation: { id: string } }>(
        GROUP,
        { input: { title: 'Shared', memberPhones: members.map((m) => m.phone) } },
        owner.token,
      ),
    ).createGroupConversation.id;
  const send = (user: TestUser, input: Record<string, unknown>) =>
    app.gql<{ sendMessage: { id: string; seq: number } }>(SEND, { input }, user.token);
  const count = async (query: ReturnType<typeof sql>) => {
    const result: unknown = await app.database.db.execute(query);
    const rows = Array.isArray(result) ? result : (result as { rows: unknown[] }).rows;
    return Number((rows[0] as { n: number | string }).n);
  };

  it.skipIf(!available)('mutes until a time or until unmuted; unread still counts', async () => {
    const [a, b] = await Promise.all([registerUser(app), registerUser(app)]);
    const id = await group(a, [b]);
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const timed = ok(await app.gql<Mute>(MUTE, { id, until }, b.token)).muteConversation;
    expect(timed).toMatchObject({ isMuted: true, mutedUntil: until });
    const forever = ok(await app.gql<Mute>(MUTE, { id, until: null }, b.token)).muteConversation;
    expect(forever).toMatchObject({ isMuted: true, mutedUntil: null });
    ok(await send(a, { conversationId: id, body: 'while muted' }));
    const list = ok(
      await app.gql<{ conversation: { isMuted: boolean; unreadCount: number } }>(
        `query($id: ID!) { conversation(id: $id) { isMuted unreadCount } }`,
        { id },
        b.token,
      ),
    );
    expect(list.conversation).toEqual({ isMuted: true, unreadCount: 1 });
    // Only for the one who muted it.
    const others = ok(
      await app.gql<{ conversation: { isMuted: boolean } }>(
        `query($id: ID!) { conversation(id: $id) { isMuted } }`,
        { id },
        a.token,
      ),
    );
    expect(others.conversation.isMuted).toBe(false);
    const unmuted = ok(
      await app.gql<{ unmuteConversation: { isMuted: boolean; mutedUntil: string | null } }>(
        UNMUTE,
        { id },
        b.token,
      ),
    ).unmuteConversation;
    expect(unmuted).toMatchObject({ isMuted: false, mutedUntil: null });
  });

  it.skipIf(!available)('refuses a past time and a conversation the caller is not in', async () => {
    const [a, b, stranger] = await Promise.all([
      registerUser(app),
      registerUser(app),
      registerUser(app),
    ]);
    const id = await group(a, [b]);
    const past = await app.gql(MUTE, { id, until: '2020-01-01T00:00:00.000Z' }, b.token);
    expect(errorCode(past)).toBe('BAD_USER_INPUT');
    expect(errorCode(await app.gql(MUTE, { id, until: null }, stranger.token))).toBe('NOT_FOUND');
    expect(errorCode(await app.gql(UNMUTE, { id }, stranger.token))).toBe('NOT_FOUND');
    expect(
      await count(
        sql`select count(*) as n from conversation_members where conversation_id = ${id}::uuid and muted_until is not null`,
      ),
    ).toBe(0);
  });

  it.skipIf(!available)(
    'a blocked user cannot open or write a direct conversation with the blocker, and is not told why',
    async () => {
      const [a, b] = await Promise.all([registerUser(app, 'Blocker'), registerUser(app, 'Pest')]);
      ok(await send(b, { toPhone: a.phone, body: 'hello' }));
      const dm = ok(
        await app.gql<{ startDirectConversation: { id: string } }>(
          DIRECT,
          { phone: b.phone },
          a.token,
        ),
      ).startDirectConversation.id;
      expect(
        ok(await app.gql<{ blockUser: boolean }>(BLOCK, { id: b.id }, a.token)).blockUser,
      ).toBe(true);
      expect(
        ok(await app.gql<{ blockedUsers: { id: string }[] }>(BLOCKED, {}, a.token)).blockedUsers,
      ).toEqual([{ id: b.id, displayName: 'Pest' }]);
      const before = await count(
        sql`select count(*) as n from messages where conversation_id = ${dm}::uuid`,
      );
      // Writing into the existing conversation, or opening it again: refused like a stranger's.
      expect(errorCode(await send(b, { conversationId: dm, body: 'are you there?' }))).toBe(
        'NOT_FOUND',
      );
      const retry = await send(b, { toPhone: a.phone, body: 'hello?' });
      const unknown = await send(b, { toPhone: '+15550000000', body: 'hello?' });
      expect(errorCode(retry)).toBe('NOT_FOUND');
      expect(retry.errors![0]!.message.replace(a.phone, 'X')).toBe(
        unknown.errors![0]!.message.replace('+15550000000', 'X'),
      );
      expect(errorCode(await app.gql(DIRECT, { phone: a.phone }, b.token))).toBe('NOT_FOUND');
      expect(
        await count(sql`select count(*) as n from messages where conversation_id = ${dm}::uuid`),
      ).toBe(before);
      // The blocker still writes to them.
      ok(await send(a, { conversationId: dm, body: 'stop it' }));
      // Unblocked: as before.
      expect(
        ok(await app.gql<{ unblockUser: boolean }>(UNBLOCK, { id: b.id }, a.token)).unblockUser,
      ).toBe(true);
      expect(
        ok(await app.gql<{ unblockUser: boolean }>(UNBLOCK, { id: b.id }, a.token)).unblockUser,
      ).toBe(false);
      ok(await send(b, { conversationId: dm, body: 'sorry' }));
    },
  );

  it.skipIf(!available)(
    "in a shared group the blocked user's messages are stored and flagged for the blocker only",
    async () => {
      const [a, b, c] = await Promise.all([
        registerUser(app, 'Blocker'),
        registerUser(app, 'Pest'),
        registerUser(app, 'Third'),
      ]);
      const id = await group(a, [b, c]);
      ok(await app.gql(BLOCK, { id: b.id }, a.token));
      ok(await send(b, { conversationId: id, body: 'from the pest' }));
      ok(await send(c, { conversationId: id, body: 'from the third' }));
      type Page = {
        messages: { edges: { node: { body: string; senderBlocked: boolean } }[] };
      };
      const seen = (user: TestUser) =>
        app
          .gql<Page>(MESSAGES, { id }, user.token)
          .then((r) => ok(r).messages.edges.map((e) => [e.node.body, e.node.senderBlocked]));
      expect(await seen(a)).toEqual([
        ['from the pest', true],
        ['from the third', false],
      ]);
      expect(await seen(c)).toEqual([
        ['from the pest', false],
        ['from the third', false],
      ]);
      // Live too, each subscriber with their own flag.
      const [ca, cc] = [connect(app.wsUrl, a.token), connect(app.wsUrl, c.token)];
      const query = `subscription($id: ID) { messageAdded(conversationId: $id) { body senderBlocked } }`;
      const pick = (d: Record<string, unknown>) =>
        d.messageAdded as { body: string; senderBlocked: boolean };
      const [la, lc] = [subscribe(ca, query, { id }, pick), subscribe(cc, query, { id }, pick)];
      const probe = setInterval(() => void send(b, { conversationId: id, body: 'live' }), 200);
      await Promise.all([la.until((i) => i.length > 0), lc.until((i) => i.length > 0)]).finally(
        () => clearInterval(probe),
      );
      expect(la.items[0]).toEqual({ body: 'live', senderBlocked: true });
      expect(lc.items[0]).toEqual({ body: 'live', senderBlocked: false });
      la.stop();
      lc.stop();
      await Promise.all([ca.dispose(), cc.dispose()]);
    },
  );

  it.skipIf(!available)(
    "a blocked user sees neither the blocker's presence nor their typing",
    async () => {
      const [a, b, c] = await Promise.all([
        registerUser(app, 'Blocker'),
        registerUser(app, 'Pest'),
        registerUser(app, 'Third'),
      ]);
      const id = await group(a, [b, c]);
      const presence = (viewer: TestUser, of: TestUser) =>
        app
          .gql<{ userByPhone: { presence: { status: string } | null } }>(
            PRESENCE,
            { p: of.phone },
            viewer.token,
          )
          .then((r) => ok(r).userByPhone.presence);
      expect(await presence(b, a)).not.toBeNull();
      ok(await app.gql(BLOCK, { id: b.id }, a.token));
      expect(await presence(b, a)).toBeNull();
      expect(await presence(c, a)).not.toBeNull();
      // The blocker still sees the blocked user's presence.
      expect(await presence(a, b)).not.toBeNull();

      const typing = `subscription($id: ID!) { typingChanged(conversationId: $id) { isTyping user { id } } }`;
      const pick = (d: Record<string, unknown>) =>
        d.typingChanged as { isTyping: boolean; user: { id: string } };
      const [cb, cc] = [connect(app.wsUrl, b.token), connect(app.wsUrl, c.token)];
      const [tb, tc] = [subscribe(cb, typing, { id }, pick), subscribe(cc, typing, { id }, pick)];
      const SET = `mutation($id: ID!) { setTyping(conversationId: $id, isTyping: true) }`;
      const probe = setInterval(() => void app.gql(SET, { id }, a.token), 200);
      await tc.until((i) => i.some((t) => t.user.id === a.id)).finally(() => clearInterval(probe));
      // The third member's stream is live and saw it: the blocked one's got nothing from a.
      ok(await app.gql(SET, { id }, c.token));
      await tb.until((i) => i.some((t) => t.user.id === c.id));
      await sleep(300);
      expect(tb.items.filter((t) => t.user.id === a.id)).toEqual([]);
      tb.stop();
      tc.stop();
      await Promise.all([cb.dispose(), cc.dispose()]);
    },
  );

  it.skipIf(!available)('refuses blocking oneself or nobody', async () => {
    const a = await registerUser(app);
    expect(errorCode(await app.gql(BLOCK, { id: a.id }, a.token))).toBe('BAD_USER_INPUT');
    expect(
      errorCode(await app.gql(BLOCK, { id: '00000000-0000-4000-8000-000000000000' }, a.token)),
    ).toBe('NOT_FOUND');
    expect(errorCode(await app.gql(BLOCK, { id: 'nope' }, a.token))).toBe('NOT_FOUND');
    expect(errorCode(await app.gql(BLOCK, { id: a.id }))).toBe('UNAUTHENTICATED');
    expect(
      await count(sql`select count(*) as n from user_blocks where blocker_id = ${a.id}::uuid`),
    ).toBe(0);
  });
});

describe.each(backends())('unread badges on $name', ({ name, available }) => {
  let app: TestApp;
  beforeAll(async () => {
    if (available) app = await startApp(name);
  });
  afterAll(async () => app?.close());

  const ME = `{ me { totalUnreadCount } }`;
  const total = async (user: TestUser) =>
    ok(await app.gql<{ me: { totalUnreadCount: number } }>(ME, {}, user.token)).me.totalUnreadCount;

  it.skipIf(!available)(
    'totalUnreadCount sums every conversation; markUnread moves the read position back',
    async () => {
      const [a, b, c] = await Promise.all([
        registerUser(app),
        registerUser(app),
        registerUser(app),
      ]);
      const SENDTO = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }`;
      const sendTo = async (from: TestUser, to: TestUser, body: string) =>
        ok(
          await app.gql<{ sendMessage: { id: string; seq: number } }>(
            SENDTO,
            { input: { toPhone: to.phone, body } },
            from.token,
          ),
        ).sendMessage;
      const fromB = [await sendTo(b, a, 'b1'), await sendTo(b, a, 'b2'), await sendTo(b, a, 'b3')];
      await sendTo(c, a, 'c1');
      expect(await total(a)).toBe(4);
      // Answering reads what came before (and one's own messages count as read).
      await sendTo(a, c, 'answered');
      expect(await total(a)).toBe(3);
      // Muted conversations still count.
      const MUTE_DM = `mutation($id: ID!) { muteConversation(conversationId: $id) { id } }`;
      const dm = ok(
        await app.gql<{ startDirectConversation: { id: string } }>(
          DIRECT,
          { phone: b.phone },
          a.token,
        ),
      ).startDirectConversation.id;
      ok(await app.gql(MUTE_DM, { id: dm }, a.token));
      expect(await total(a)).toBe(3);
      ok(
        await app.gql(
          `mutation($m: ID!) { markRead(messageId: $m) { id } }`,
          { m: fromB[2]!.id },
          a.token,
        ),
      );
      expect(await total(a)).toBe(0);
      const UNREAD = `mutation($m: ID!) { markUnread(messageId: $m) { unreadCount } }`;
      const back = ok(
        await app.gql<{ markUnread: { unreadCount: number } }>(
          UNREAD,
          { m: fromB[1]!.id },
          a.token,
        ),
      );
      expect(back.markUnread.unreadCount).toBe(2);
      expect(await total(a)).toBe(2);
      // Never forwards: marking a later message unread keeps the earlier position.
      ok(await app.gql(UNREAD, { m: fromB[2]!.id }, a.token));
      expect(await total(a)).toBe(2);
      // Only the caller's own count; another user's reads as null.
      const other = ok(
        await app.gql<{ userByPhone: { totalUnreadCount: number | null } }>(
          `query($p: String!) { userByPhone(phone: $p) { totalUnreadCount } }`,
          { p: b.phone },
          a.token,
        ),
      );
      expect(other.userByPhone.totalUnreadCount).toBeNull();
      // A message of a conversation the caller is not in: NOT_FOUND, nothing moved.
      expect(errorCode(await app.gql(UNREAD, { m: fromB[0]!.id }, c.token))).toBe('NOT_FOUND');
      expect(errorCode(await app.gql(UNREAD, { m: 'not-an-id' }, a.token))).toBe('BAD_USER_INPUT');
      expect(await total(a)).toBe(2);
    },
  );
});
