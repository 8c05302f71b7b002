// conversationUpdated on both backends: every device of a user hears of its read positions,
// mutes, joins, removals and of the member, role and detail changes of its conversations, with
// the conversation as the user sees it after the change; nobody hears of conversations they are
// not in, and a removed member hears nothing more of it.
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backends,
  ok,
  registerUser,
  startApp,
  type TestApp,
  type TestUser,
} from '../support/app.js';
import { connectLegacy, type LegacyClient } from '../support/legacy-ws.js';
import { connect, probe, subscribe, type Received } from '../support/ws.js';

const UPDATES = `subscription { conversationUpdated { reason conversation {
  id title unreadCount isMuted myRole memberships { user { id } role } } } }`;
const GROUP = `mutation($input: CreateGroupConversationInput!) { createGroupConversation(input: $input) { id } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }`;
const MARK_READ = `mutation($id: ID!) { markRead(messageId: $id) { id unreadCount } }`;
const MUTE = `mutation($id: ID!) { muteConversation(conversationId: $id) { id isMuted } }`;
const UNMUTE = `mutation($id: ID!) { unmuteConversation(conversationId: $id) { id } }`;
const ADD = `mutation($id: ID!, $phones: [String!]!) { addMembers(conversationId: $id, phones: $phones) { id } }`;
const REMOVE = `mutation($id: ID!, $user: ID!) { removeMember(conversationId: $id, userId: $user) { id } }`;
const ROLE = `mutation($id: ID!, $user: ID!, $role: MemberRole!) { setMemberRole(conversationId: $id, userId: $user, role: $role) { id } }`;
const RENAME = `mutation($id: ID!, $title: String!) { updateConversation(input: { conversationId: $id, title: $title }) { id } }`;

interface Update {
  reason: string;
  conversation: {
    id: string;
    title: string | null;
    unreadCount: number;
    isMuted: boolean;
    myRole: string | null;
    memberships: { user: { id: string }; role: string }[];
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const of = (items: Update[], conversationId: string) =>
  items.filter((u) => u.conversation.id === conversationId);
const memberIds = (u: Update) => u.conversation.memberships.map((m) => m.user.id).sort();

/** The view query of the update batcher (one per conversation and batch). */
const isViewBatch = (statement: string) =>
  statement.startsWith('select') && statement.includes('"conversation_members"."user_id" = any(');

describe.each(backends())('conversationUpdated on $name', ({ name, available }) => {
  let app: TestApp;
  const clients: Client[] = [];
  const legacyClients: LegacyClient[] = [];
  beforeAll(async () => {
    if (!available) return;
    app = await startApp(name);
  });
  afterAll(async () => {
    legacyClients.forEach((c) => c.close());
    await Promise.all(clients.map((c) => c.dispose()));
    await app?.close();
  });

  const run = async <T>(user: TestUser, query: string, variables: Record<string, unknown>) =>
    ok(await app.gql<T>(query, variables, user.token));
  const group = async (owner: TestUser, members: TestUser[], title = 'group') =>
    (
      await run<{ createGroupConversation: { id: string } }>(owner, GROUP, {
        input: { title, memberPhones: members.map((m) => m.phone) },
      })
    ).createGroupConversation.id;
  const device = (user: TestUser) => {
    const c = connect(app.wsUrl, user.token);
    clients.push(c);
    return c;
  };

  /**
   * A device of `user` subscribed to conversationUpdated, live: unmuting `probeId` (a
   * conversation of theirs) is repeated until the device hears of it.
   */
  async function watch(user: TestUser, probeId: string, c = device(user)) {
    const updates = subscribe<Update>(c, UPDATES);
    await probe(
      updates,
      () => run(user, UNMUTE, { id: probeId }),
      (items) => of(items, probeId).length > 0,
    );
    return updates;
  }

  /** Updates of `conversationId` after the first `skip` ones of it. */
  const after = (updates: Received<Update>, conversationId: string, skip: number) =>
    of(updates.items, conversationId).slice(skip);

  it.skipIf(!available)(
    'two devices of one user: markRead on one clears the badge on the other (READ), mute shows as MUTE',
    async () => {
      const [owner, user] = await Promise.all([registerUser(app, 'O'), registerUser(app, 'U')]);
      const id = await group(owner, [user]);
      await run(owner, SEND, { input: { conversationId: id, body: 'one' } });
      const { sendMessage: last } = await run<{ sendMessage: { id: string } }>(owner, SEND, {
        input: { conversationId: id, body: 'two' },
      });
      const phone = device(user);
      const laptop = device(user);
      const onPhone = await watch(user, id, phone);
      const onLaptop = await watch(user, id, laptop);
      const seen = of(onLaptop.items, id).length;

      // Read on the phone, over its own socket.
      const read = subscribe<{ unreadCount: number }>(phone, MARK_READ, { id: last.id });
      await read.ended();
      expect(read.items).toEqual([{ id, unreadCount: 0 }]);
      await onLaptop.until(() => after(onLaptop, id, seen).some((u) => u.reason === 'READ'));
      const readUpdate = after(onLaptop, id, seen).find((u) => u.reason === 'READ');
      expect(readUpdate!.conversation).toMatchObject({ id, unreadCount: 0, myRole: 'MEMBER' });
      // Every device of the caller, the one that read too.
      await onPhone.until((items) => of(items, id).some((u) => u.reason === 'READ'));

      await run(user, MUTE, { id });
      await onLaptop.until(() =>
        after(onLaptop, id, seen).some((u) => u.reason === 'MUTE' && u.conversation.isMuted),
      );
      expect(onLaptop.errors).toEqual([]);
    },
  );

  it.skipIf(!available)(
    'JOINED, MEMBERS, ROLES, DETAILS, then REMOVED and nothing more; a non-member hears nothing',
    async () => {
      const [owner, user, other, late, outsider] = await Promise.all([
        registerUser(app, 'O'),
        registerUser(app, 'U'),
        registerUser(app, 'V'),
        registerUser(app, 'W'),
        registerUser(app, 'X'),
      ]);
      const userProbe = await group(user, [], 'probe of U');
      const outsiderProbe = await group(outsider, [], 'probe of X');
      const updates = await watch(user, userProbe);
      const outsiderUpdates = await watch(outsider, outsiderProbe);

      const id = await group(owner, [other], 'before');
      await run(owner, ADD, { id, phones: [user.phone] });
      await updates.until((items) => of(items, id).length >= 1);
      const [first] = of(updates.items, id);
      expect(first!.reason).toBe('JOINED');
      expect(first!.conversation).toMatchObject({ id, title: 'before', myRole: 'MEMBER' });
      expect(memberIds(first!)).toEqual([owner.id, user.id, other.id].sort());

      await run(owner, ADD, { id, phones: [late.phone] });
      await updates.until((items) => of(items, id).some((u) => u.reason === 'MEMBERS'));
      const members = of(updates.items, id).find((u) => u.reason === 'MEMBERS')!;
      expect(memberIds(members)).toEqual([owner.id, user.id, other.id, late.id].sort());

      await run(owner, ROLE, { id, user: user.id, role: 'ADMIN' });
      await updates.until((items) => of(items, id).some((u) => u.reason === 'ROLES'));
      expect(of(updates.items, id).find((u) => u.reason === 'ROLES')!.conversation.myRole).toBe(
        'ADMIN',
      );

      await run(owner, RENAME, { id, title: 'after' });
      await updates.until((items) => of(items, id).some((u) => u.reason === 'DETAILS'));
      expect(of(updates.items, id).find((u) => u.reason === 'DETAILS')!.conversation.title).toBe(
        'after',
      );

      await run(owner, REMOVE, { id, user: user.id });
      await updates.until((items) => of(items, id).some((u) => u.reason === 'REMOVED'));
      const removed = of(updates.items, id).at(-1)!;
      expect(removed.reason).toBe('REMOVED');
      // As someone outside sees it: its details, none of its members.
      expect(removed.conversation).toMatchObject({ id, title: 'after', myRole: null });
      expect(removed.conversation.memberships).toEqual([]);
      const heard = of(updates.items, id).length;

      // Changes after the removal: none reach the removed member.
      await run(owner, RENAME, { id, title: 'without U' });
      await run(owner, ADD, { id, phones: [outsider.phone] });
      await run(owner, ROLE, { id, user: other.id, role: 'ADMIN' });
      // The outsider, now added, hears JOINED: the changes were published and handed on.
      await outsiderUpdates.until((items) => of(items, id).some((u) => u.reason === 'JOINED'));
      await sleep(800); // past a member changes window
      expect(of(updates.items, id)).toHaveLength(heard);
      expect(updates.errors).toEqual([]);
      // Before it was added, the outsider heard nothing of the conversation.
      expect(of(outsiderUpdates.items, id)[0]!.reason).toBe('JOINED');
    },
  );

  it.skipIf(!available)(
    'a burst of joins is one MEMBERS update, and one change reaches many subscribers in one view query',
    async () => {
      const owner = await registerUser(app, 'O');
      const users = await Promise.all(
        Array.from({ length: 12 }, (_, i) => registerUser(app, `M${i}`)),
      );
      const members = users.slice(0, 8);
      const joining = users.slice(8);
      const id = await group(owner, members, 'room');
      const subscribers = await Promise.all(members.map((u) => watch(u, id)));
      const seen = of(subscribers[0]!.items, id).length;

      // Four joins in quick succession: one update (two at most, split by the window).
      for (const user of joining) await run(owner, ADD, { id, phones: [user.phone] });
      await subscribers[0]!.until(() =>
        after(subscribers[0]!, id, seen).some(
          (u) => u.reason === 'MEMBERS' && u.conversation.memberships.length === 13,
        ),
      );
      await sleep(700);
      const memberUpdates = after(subscribers[0]!, id, seen).filter((u) => u.reason === 'MEMBERS');
      expect(memberUpdates.length).toBeGreaterThanOrEqual(1);
      expect(memberUpdates.length).toBeLessThanOrEqual(2);

      // One detail change: every subscriber hears of it, the views read in one statement.
      const before = app.statements.length;
      await run(owner, RENAME, { id, title: 'renamed room' });
      await Promise.all(
        subscribers.map((s) =>
          s.until((items) =>
            of(items, id).some(
              (u) => u.reason === 'DETAILS' && u.conversation.title === 'renamed room',
            ),
          ),
        ),
      );
      const viewQueries = app.statements.slice(before).filter(isViewBatch);
      expect(viewQueries).toHaveLength(1);
    },
  );

  it.skipIf(!available)('works over the legacy subscriptions-transport-ws protocol', async () => {
    const user = await registerUser(app, 'L');
    const id = await group(user, [], 'legacy');
    const legacy = connectLegacy(app.wsUrl, {
      connectionParams: { authorization: `Bearer ${user.token}` },
    });
    legacyClients.push(legacy);
    await legacy.acknowledged;
    const updates = legacy.request<Update>(UPDATES);
    await probe(updates, () => run(user, UNMUTE, { id }));
    await run(user, MUTE, { id });
    await updates.until((items) =>
      items.some((u) => u.reason === 'MUTE' && u.conversation.isMuted),
    );
    expect(updates.errors).toEqual([]);
  });
});
