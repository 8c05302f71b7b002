// Running a group: roles, removal, handing ownership on, details, and the system messages that
// record each change, on both backends. A non-member sees NOT_FOUND for everything; a MEMBER
// attempting an admin action sees FORBIDDEN.
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
import { detailedPng, download, uploadOk } from '../support/attachments.js';

const GROUP = `mutation($input: CreateGroupConversationInput!) { createGroupConversation(input: $input) { id myRole } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }`;
const ADD = `mutation($id: ID!, $phones: [String!]!) { addMembers(conversationId: $id, phones: $phones) { id memberCount } }`;
const REMOVE = `mutation($id: ID!, $user: ID!) { removeMember(conversationId: $id, userId: $user) { id memberCount memberships { user { id } role } } }`;
const SET_ROLE = `mutation($id: ID!, $user: ID!, $role: MemberRole!) { setMemberRole(conversationId: $id, userId: $user, role: $role) { id myRole memberships { user { id } role } } }`;
const UPDATE = `mutation($input: UpdateConversationInput!) { updateConversation(input: $input) { id title description visibility avatar { id mimeType url } } }`;
const LEAVE = `mutation($id: ID!) { leaveConversation(conversationId: $id) }`;
const VIEW = `query($id: ID!) { conversation(id: $id) { id myRole memberCount unreadCount
  memberships { user { id } role lastReadSeq joinedAt } readReceipts { user { id } lastReadSeq readAt } } }`;
const LIST = `{ conversations(first: 50) { edges { node { id } } } }`;
const HISTORY = `query($id: ID!) { messages(conversationId: $id, last: 100) { edges { node {
  seq kind body sender { id }
  systemEvent { type actor { id } subject { id } subjects { id } role fields title } } } } }`;
const MARK_READ = `mutation($id: ID!) { markRead(messageId: $id) { id unreadCount } }`;

type Role = 'OWNER' | 'ADMIN' | 'MEMBER';
interface Membership {
  user: { id: string };
  role: Role;
  lastReadSeq: number;
  joinedAt: string;
}
interface View {
  id: string;
  myRole: Role | null;
  memberCount: number;
  unreadCount: number;
  memberships: Membership[];
  readReceipts: { user: { id: string }; lastReadSeq: number; readAt: string }[];
}
interface HistoryItem {
  seq: number;
  kind: 'USER' | 'SYSTEM';
  body: string | null;
  sender: { id: string };
  systemEvent: {
    type: string;
    actor: { id: string };
    subject: { id: string } | null;
    subjects: { id: string }[];
    role: Role | null;
    fields: string[] | null;
    title: string | null;
  } | null;
}

describe.each(backends())('groups on $name', ({ name, available }) => {
  let app: TestApp;
  beforeAll(async () => {
    if (available) app = await startApp(name);
  });
  afterAll(async () => app?.close());

  const users = (n: number) => Promise.all(Array.from({ length: n }, () => registerUser(app)));
  const group = async (owner: TestUser, members: TestUser[], extra: object = {}) =>
    ok(
      await app.gql<{ createGroupConversation: { id: string; myRole: Role } }>(
        GROUP,
        { input: { title: 'Team', memberPhones: members.map((m) => m.phone), ...extra } },
        owner.token,
      ),
    ).createGroupConversation;
  const view = async (id: string, who: TestUser) =>
    (await app.gql<{ conversation: View | null }>(VIEW, { id }, who.token)).data?.conversation;
  const history = async (id: string, who: TestUser) =>
    ok(
      await app.gql<{ messages: { edges: { node: HistoryItem }[] } }>(HISTORY, { id }, who.token),
    ).messages.edges.map((e) => e.node);
  const systemTypes = async (id: string, who: TestUser) =>
    (await history(id, who)).filter((m) => m.kind === 'SYSTEM').map((m) => m.systemEvent!.type);
  const setRole = (id: string, by: TestUser, user: TestUser, role: Role) =>
    app.gql<{ setMemberRole: View }>(SET_ROLE, { id, user: user.id, role }, by.token);
  const remove = (id: string, by: TestUser, user: TestUser) =>
    app.gql<{ removeMember: View }>(REMOVE, { id, user: user.id }, by.token);
  const roles = (v: { memberships: Membership[] }) =>
    Object.fromEntries(v.memberships.map((m) => [m.user.id, m.role]));

  it.skipIf(!available)(
    'the creator owns the group; only the owner gives roles, and admins manage members',
    async () => {
      const [owner, ann, bob, cat, dan] = await users(5);
      const created = await group(owner!, [ann!, bob!, cat!]);
      expect(created.myRole).toBe('OWNER');
      const id = created.id;
      const before = (await view(id, ann!))!;
      expect(before.myRole).toBe('MEMBER');
      expect(before.memberCount).toBe(4);
      expect(roles(before)).toEqual({
        [owner!.id]: 'OWNER',
        [ann!.id]: 'MEMBER',
        [bob!.id]: 'MEMBER',
        [cat!.id]: 'MEMBER',
      });

      // A MEMBER attempting an admin action: FORBIDDEN, and nothing changes.
      expect(errorCode(await app.gql(ADD, { id, phones: [dan!.phone] }, ann!.token))).toBe(
        'FORBIDDEN',
      );
      expect(errorCode(await remove(id, ann!, bob!))).toBe('FORBIDDEN');
      expect(errorCode(await setRole(id, ann!, bob!, 'ADMIN'))).toBe('FORBIDDEN');
      expect(
        errorCode(
          await app.gql(UPDATE, { input: { conversationId: id, title: 'Mine' } }, ann!.token),
        ),
      ).toBe('FORBIDDEN');
      expect((await view(id, owner!))!.memberCount).toBe(4);

      // The owner makes Ann an admin; an admin still cannot give roles.
      const promoted = ok(await setRole(id, owner!, ann!, 'ADMIN')).setMemberRole;
      expect(roles(promoted)[ann!.id]).toBe('ADMIN');
      expect(errorCode(await setRole(id, ann!, bob!, 'ADMIN'))).toBe('FORBIDDEN');
      // Setting the role a member has already changes nothing and records nothing.
      ok(await setRole(id, owner!, ann!, 'ADMIN'));

      // The admin adds Dan and removes Bob; she cannot remove the owner.
      expect(
        ok(await app.gql<{ addMembers: View }>(ADD, { id, phones: [dan!.phone] }, ann!.token))
          .addMembers.memberCount,
      ).toBe(5);
      const afterRemoval = ok(await remove(id, ann!, bob!)).removeMember;
      expect(afterRemoval.memberCount).toBe(4);
      expect(Object.keys(roles(afterRemoval))).not.toContain(bob!.id);
      expect(errorCode(await remove(id, ann!, owner!))).toBe('FORBIDDEN');
      expect(errorCode(await remove(id, ann!, ann!))).toBe('BAD_USER_INPUT');
      // Removing someone who is not (or no longer) a member.
      expect(errorCode(await remove(id, ann!, bob!))).toBe('NOT_FOUND');

      // Bob is out: the conversation is gone from his list and reads as nonexistent; his
      // messages stay in everyone else's history.
      expect(await view(id, bob!)).toBeNull();
      const bobsList = ok(
        await app.gql<{ conversations: { edges: { node: { id: string } }[] } }>(
          LIST,
          {},
          bob!.token,
        ),
      );
      expect(bobsList.conversations.edges.map((e) => e.node.id)).not.toContain(id);
      expect(
        errorCode(await app.gql(SEND, { input: { conversationId: id, body: 'hi?' } }, bob!.token)),
      ).toBe('NOT_FOUND');

      // Each change is in history, in order, with who did what to whom.
      const items = await history(id, owner!);
      const system = items.filter((m) => m.kind === 'SYSTEM');
      expect(system.map((m) => m.systemEvent!.type)).toEqual([
        'ROLE_CHANGED',
        'MEMBERS_ADDED',
        'MEMBER_REMOVED',
      ]);
      expect(system[0]!.systemEvent).toMatchObject({
        actor: { id: owner!.id },
        subject: { id: ann!.id },
        role: 'ADMIN',
      });
      expect(system[1]!.systemEvent).toMatchObject({
        actor: { id: ann!.id },
        subjects: [{ id: dan!.id }],
      });
      expect(system[2]!.systemEvent).toMatchObject({
        actor: { id: ann!.id },
        subject: { id: bob!.id },
      });
      expect(system.every((m) => m.body === null)).toBe(true);
      // System messages take seqs like any message: gap-free.
      expect(items.map((m) => m.seq)).toEqual(items.map((_, i) => i + 1));
    },
  );

  it.skipIf(!available)(
    'a group at its size limit takes nobody more, and the refused call adds nobody',
    async () => {
      const [owner, member, one, two] = await users(4);
      const { id } = await group(owner!, [member!]);
      // Pretend it holds 9,999 (its count is what the limit reads, kept by a trigger).
      await app.database.db.execute(
        sql`update conversations set member_count = 9999 where id = ${id}::uuid`,
      );
      const refused = await app.gql(ADD, { id, phones: [one!.phone, two!.phone] }, owner!.token);
      expect(errorCode(refused)).toBe('BAD_USER_INPUT');
      expect(await view(id, one!)).toBeNull();
      expect(await systemTypes(id, owner!)).toEqual([]);
      // One more fits exactly.
      expect(
        ok(await app.gql<{ addMembers: View }>(ADD, { id, phones: [one!.phone] }, owner!.token))
          .addMembers.memberCount,
      ).toBe(10_000);
    },
  );

  it.skipIf(!available)(
    'a non-member sees NOT_FOUND for every group operation, as for a conversation that does not exist',
    async () => {
      const [owner, member, stranger] = await users(3);
      const { id } = await group(owner!, [member!]);
      const missing = '00000000-0000-4000-8000-000000000000';
      for (const conversationId of [id, missing, 'not-an-id']) {
        expect(errorCode(await remove(conversationId, stranger!, member!))).toBe('NOT_FOUND');
        expect(errorCode(await setRole(conversationId, stranger!, member!, 'ADMIN'))).toBe(
          'NOT_FOUND',
        );
        expect(
          errorCode(
            await app.gql(UPDATE, { input: { conversationId, title: 'x' } }, stranger!.token),
          ),
        ).toBe('NOT_FOUND');
        expect(
          errorCode(await app.gql(ADD, { id: conversationId, phones: [] }, stranger!.token)),
        ).toBe('NOT_FOUND');
      }
      expect(await systemTypes(id, owner!)).toEqual([]);
    },
  );

  it.skipIf(!available)(
    'the owner hands the group on; the last owner leaving passes it to the oldest admin, else the oldest member',
    async () => {
      const [owner, ann, bob, cat] = await users(4);
      const { id } = await group(owner!, [ann!, bob!]);
      // Cat joins later: younger than the members who were there from the start.
      ok(await app.gql(ADD, { id, phones: [cat!.phone] }, owner!.token));

      // Handing on: the old owner becomes an admin.
      const handed = ok(await setRole(id, owner!, ann!, 'OWNER')).setMemberRole;
      expect(handed.myRole).toBe('ADMIN');
      expect(roles(handed)[ann!.id]).toBe('OWNER');
      expect(errorCode(await setRole(id, owner!, bob!, 'ADMIN'))).toBe('FORBIDDEN');

      // Ann (owner) makes Cat an admin, then leaves: the oldest admin is the former owner.
      ok(await setRole(id, ann!, cat!, 'ADMIN'));
      ok(await app.gql(LEAVE, { id }, ann!.token));
      let now = (await view(id, bob!))!;
      expect(roles(now)).toEqual({ [owner!.id]: 'OWNER', [bob!.id]: 'MEMBER', [cat!.id]: 'ADMIN' });

      // Without admins the member who joined first takes over.
      const [first, second] = await users(2);
      const other = await group(owner!, [first!]);
      ok(await app.gql(ADD, { id: other.id, phones: [second!.phone] }, owner!.token));
      ok(await app.gql(LEAVE, { id: other.id }, owner!.token));
      now = (await view(other.id, second!))!;
      expect(roles(now)).toEqual({ [first!.id]: 'OWNER', [second!.id]: 'MEMBER' });
      const transfer = (await history(other.id, first!)).find(
        (m) => m.systemEvent?.type === 'OWNERSHIP_TRANSFERRED',
      );
      expect(transfer?.systemEvent).toMatchObject({
        actor: { id: owner!.id },
        subject: { id: first!.id },
        role: 'OWNER',
      });
      expect(await systemTypes(id, bob!)).toEqual([
        'MEMBERS_ADDED',
        'OWNERSHIP_TRANSFERRED',
        'ROLE_CHANGED',
        'MEMBER_LEFT',
        'OWNERSHIP_TRANSFERRED',
      ]);
    },
  );

  it.skipIf(!available)(
    'two admins removing each other at once: exactly one goes, and history says so once',
    async () => {
      for (let round = 0; round < 3; round++) {
        const [owner, ann, bob] = await users(3);
        const { id } = await group(owner!, [ann!, bob!]);
        ok(await setRole(id, owner!, ann!, 'ADMIN'));
        ok(await setRole(id, owner!, bob!, 'ADMIN'));
        const results = await Promise.all([remove(id, ann!, bob!), remove(id, bob!, ann!)]);
        const codes = results.map((r) => errorCode(r) ?? 'OK').sort();
        // The second finds its caller removed: a conversation they are not in.
        expect(codes).toEqual(['NOT_FOUND', 'OK']);
        const now = (await view(id, owner!))!;
        expect(now.memberCount).toBe(2);
        expect(await systemTypes(id, owner!)).toEqual([
          'ROLE_CHANGED',
          'ROLE_CHANGED',
          'MEMBER_REMOVED',
        ]);
      }
    },
  );

  it.skipIf(!available)(
    'an owner handing the group to two people at once hands it to one',
    async () => {
      const [owner, ann, bob] = await users(3);
      const { id } = await group(owner!, [ann!, bob!]);
      const results = await Promise.all([
        setRole(id, owner!, ann!, 'OWNER'),
        setRole(id, owner!, bob!, 'OWNER'),
      ]);
      expect(results.map((r) => errorCode(r) ?? 'OK').sort()).toEqual(['FORBIDDEN', 'OK']);
      const owners = (await view(id, owner!))!.memberships.filter((m) => m.role === 'OWNER');
      expect(owners).toHaveLength(1);
    },
  );

  it.skipIf(!available)(
    'admins change title, description, picture and visibility; each change is recorded once',
    async () => {
      const [owner, member] = await users(2);
      const { id } = await group(owner!, [member!]);
      const update = (input: object, who = owner!) =>
        app.gql<{
          updateConversation: {
            title: string;
            description: string | null;
            visibility: string;
            avatar: { id: string; mimeType: string; url: string } | null;
          };
        }>(UPDATE, { input: { conversationId: id, ...input } }, who.token);

      const renamed = ok(await update({ title: '  Launch crew ', description: 'Ship it' }));
      expect(renamed.updateConversation).toMatchObject({
        title: 'Launch crew',
        description: 'Ship it',
        visibility: 'PRIVATE',
      });
      // The same values again: no change, no system message.
      ok(await update({ title: 'Launch crew' }));
      // Bad input writes nothing.
      expect(errorCode(await update({ title: '' }))).toBe('BAD_USER_INPUT');
      expect(errorCode(await update({ title: null }))).toBe('BAD_USER_INPUT');
      expect(errorCode(await update({ description: 'x'.repeat(1_001) }))).toBe('BAD_USER_INPUT');

      // A picture: an image the admin uploaded; a member downloads it through its signed url.
      const png = await detailedPng(64, 64);
      const image = await uploadOk(app.origin, owner!.token, {
        bytes: png,
        filename: 'crew.png',
        type: 'image/png',
      });
      const withAvatar = ok(await update({ avatarAttachmentId: image.id })).updateConversation;
      expect(withAvatar.avatar).toMatchObject({ id: image.id, mimeType: 'image/png' });
      const seen = ok(
        await app.gql<{ conversation: { avatar: { url: string } } }>(
          `query($id: ID!) { conversation(id: $id) { avatar { url } } }`,
          { id },
          member!.token,
        ),
      );
      expect((await download(app.origin + seen.conversation.avatar.url)).status).toBe(200);
      // Someone else's upload, or a made-up id, is not available.
      const theirs = await uploadOk(app.origin, member!.token, {
        bytes: png,
        filename: 'other.png',
        type: 'image/png',
      });
      expect(errorCode(await update({ avatarAttachmentId: theirs.id }))).toBe('NOT_FOUND');

      const cleared = ok(
        await update({ description: null, avatarAttachmentId: null, visibility: 'PUBLIC' }),
      ).updateConversation;
      expect(cleared).toMatchObject({ description: null, avatar: null, visibility: 'PUBLIC' });
      // The former picture is gone.
      expect((await download(app.origin + seen.conversation.avatar.url)).status).toBe(404);

      const details = (await history(id, member!)).filter((m) => m.kind === 'SYSTEM');
      expect(details.map((m) => m.systemEvent)).toEqual([
        expect.objectContaining({
          type: 'DETAILS_CHANGED',
          fields: ['title', 'description'],
          title: 'Launch crew',
        }),
        expect.objectContaining({ type: 'DETAILS_CHANGED', fields: ['avatar'], title: null }),
        expect.objectContaining({
          type: 'DETAILS_CHANGED',
          fields: ['description', 'avatar', 'visibility'],
        }),
      ]);
    },
  );

  it.skipIf(!available)(
    "a list of groups reads their pictures in one statement, each group's own",
    async () => {
      const [owner, member] = await users(2);
      const png = await detailedPng(32, 32);
      const pictured: Record<string, string> = {};
      for (const title of ['One', 'Two', 'Three']) {
        const { id } = await group(owner!, [member!], { title });
        const image = await uploadOk(app.origin, owner!.token, {
          bytes: png,
          filename: `${title}.png`,
          type: 'image/png',
        });
        ok(
          await app.gql(
            UPDATE,
            { input: { conversationId: id, avatarAttachmentId: image.id } },
            owner!.token,
          ),
        );
        pictured[id] = image.id;
      }
      const bare = await group(owner!, [member!], { title: 'No picture' });
      const before = app.statements.length;
      const list = ok(
        await app.gql<{
          conversations: { edges: { node: { id: string; avatar: { id: string } | null } }[] };
        }>(
          `{ conversations(first: 10) { edges { node { id avatar { id } } } } }`,
          {},
          member!.token,
        ),
      ).conversations.edges.map((e) => e.node);
      const issued = app.statements.slice(before);
      expect(issued.filter((q) => /from "attachments"/.test(q))).toHaveLength(1);
      expect(Object.fromEntries(list.map((c) => [c.id, c.avatar?.id ?? null]))).toEqual({
        ...pictured,
        [bare.id]: null,
      });
    },
  );

  it.skipIf(!available)(
    'system messages are unread for the others but not for the one who made the change, nor for whoever was added',
    async () => {
      const [owner, member, late] = await users(3);
      const { id } = await group(owner!, [member!]);
      const sent = ok(
        await app.gql<{ sendMessage: { id: string; seq: number } }>(
          SEND,
          { input: { conversationId: id, body: 'hello' } },
          owner!.token,
        ),
      ).sendMessage;
      ok(await app.gql(ADD, { id, phones: [late!.phone] }, owner!.token));
      expect((await view(id, owner!))!.unreadCount).toBe(0);
      expect((await view(id, late!))!.unreadCount).toBe(0);
      expect((await view(id, member!))!.unreadCount).toBe(2);
      // Read positions and when they moved, per member.
      ok(await app.gql(MARK_READ, { id: sent.id }, member!.token));
      const receipts = (await view(id, owner!))!.readReceipts;
      const byUser = Object.fromEntries(receipts.map((r) => [r.user.id, r.lastReadSeq]));
      expect(byUser).toEqual({ [owner!.id]: 2, [member!.id]: 1, [late!.id]: 2 });
      expect(receipts.every((r) => !Number.isNaN(Date.parse(r.readAt)))).toBe(true);
    },
  );
});
