// Invite links and public groups: createInvite, revokeInvite, joinConversation and
// publicConversations, as a client uses them, on PGlite and on PostgreSQL.
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
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

const GROUP = `mutation($input: CreateGroupConversationInput!) {
  createGroupConversation(input: $input) { id } }`;
const CREATE_INVITE = `mutation($id: ID!, $expiresAt: DateTime, $maxUses: Int) {
  createInvite(conversationId: $id, expiresAt: $expiresAt, maxUses: $maxUses) {
    code conversationId expiresAt usesLeft } }`;
const REVOKE = `mutation($code: String!) { revokeInvite(code: $code) }`;
const JOIN = `mutation($id: ID, $code: String) {
  joinConversation(conversationId: $id, inviteCode: $code) { id myRole memberCount unreadCount } }`;
const CONVERSATION = `query($id: ID!) { conversation(id: $id) {
  id memberCount unreadCount myRole
  messages(last: 5) { edges { node { kind sender { id } systemEvent { type actor { id } subject { id } } } } } } }`;
const PUBLIC = `query($search: String, $first: Int, $after: String) {
  publicConversations(search: $search, first: $first, after: $after) {
    edges { cursor node { id title memberCount myRole memberships { user { id } } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;
const SET_ROLE = `mutation($id: ID!, $userId: ID!, $role: MemberRole!) {
  setMemberRole(conversationId: $id, userId: $userId, role: $role) { id } }`;

interface Invite {
  code: string;
  conversationId: string;
  expiresAt: string | null;
  usesLeft: number | null;
}
interface Joined {
  id: string;
  myRole: string | null;
  memberCount: number;
  unreadCount: number;
}
interface PublicPage {
  publicConversations: {
    edges: {
      cursor: string;
      node: {
        id: string;
        title: string;
        memberCount: number;
        myRole: string | null;
        memberships: { user: { id: string } }[];
      };
    }[];
    pageInfo: {
      hasNextPage: boolean;
      hasPreviousPage: boolean;
      startCursor: string | null;
      endCursor: string | null;
    };
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fieldOf = (res: GraphQLResponse<unknown>) => res.errors?.[0]?.extensions?.['field'];

/** The users of a test; every test makes its own groups, so the same users serve them all. */
type People = [
  TestUser,
  TestUser,
  TestUser,
  TestUser,
  TestUser,
  TestUser,
  TestUser,
  TestUser,
  TestUser,
];

describe.each(backends())('invites and public groups on $name', ({ name, available }) => {
  let app: TestApp;
  /** With the rate limits as configured for production (the other app's are loosened). */
  let limited: TestApp;
  let pool: TestUser[] = [];
  beforeAll(async () => {
    if (!available) return;
    [app, limited] = await Promise.all([
      startApp(name),
      startApp(name, { env: { RATE_LIMIT_MULTIPLIER: '1' } }),
    ]);
    pool = await Promise.all(Array.from({ length: 9 }, () => registerUser(app)));
  });
  afterAll(async () => {
    await app?.close();
    await limited?.close();
  });

  const people = () => pool as People;

  const group = async (
    owner: TestUser,
    title: string,
    members: TestUser[] = [],
    visibility: 'PRIVATE' | 'PUBLIC' = 'PRIVATE',
  ) =>
    ok(
      await app.gql<{ createGroupConversation: { id: string } }>(
        GROUP,
        { input: { title, memberPhones: members.map((m) => m.phone), visibility } },
        owner.token,
      ),
    ).createGroupConversation.id;

  const createInvite = (user: TestUser, vars: Record<string, unknown>) =>
    app.gql<{ createInvite: Invite }>(CREATE_INVITE, vars, user.token);
  const invite = async (user: TestUser, vars: Record<string, unknown>) =>
    ok(await createInvite(user, vars)).createInvite;
  const join = (user: TestUser, vars: { id?: string | null; code?: string | null }) =>
    app.gql<{ joinConversation: Joined }>(JOIN, vars, user.token);
  const revoke = (user: TestUser, code: string) =>
    app.gql<{ revokeInvite: boolean }>(REVOKE, { code }, user.token);
  const view = async (user: TestUser, id: string) =>
    ok(
      await app.gql<{
        conversation: {
          memberCount: number;
          unreadCount: number;
          myRole: string | null;
          messages: {
            edges: {
              node: {
                kind: string;
                sender: { id: string };
                systemEvent: {
                  type: string;
                  actor: { id: string };
                  subject: { id: string } | null;
                } | null;
              };
            }[];
          };
        } | null;
      }>(CONVERSATION, { id }, user.token),
    ).conversation;
  const listPublic = async (user: TestUser, vars: Record<string, unknown>) =>
    ok(await app.gql<PublicPage>(PUBLIC, vars, user.token)).publicConversations;
  /** What a client cannot see: the invite rows of a group. */
  const inviteRows = (conversationId: string) =>
    queryRows<{ code: string; uses_left: number | null }>(
      app.database.db,
      sql`select code, uses_left from invites where conversation_id = ${conversationId}::uuid`,
    );

  it.skipIf(!available)(
    'an owner or admin makes a code, others join with it, and revoking stops it',
    async () => {
      const [owner, admin, joiner, late] = people();
      const id = await group(owner, 'Book club', [admin]);
      ok(await app.gql(SET_ROLE, { id, userId: admin.id, role: 'ADMIN' }, owner.token));

      const code = await invite(owner, { id });
      expect(code).toEqual({
        code: expect.any(String),
        conversationId: id,
        expiresAt: null,
        usesLeft: null,
      });
      expect(code.code).toMatch(/^[A-Za-z0-9_-]{22}$/);

      const joined = ok(await join(joiner, { code: code.code })).joinConversation;
      expect(joined).toMatchObject({ id, myRole: 'MEMBER', memberCount: 3 });
      expect((await view(owner, id))?.memberCount).toBe(3);

      // An admin's codes work too, with their limits as given.
      const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
      const adminCode = await invite(admin, { id, expiresAt, maxUses: 5 });
      expect(adminCode).toMatchObject({ conversationId: id, expiresAt, usesLeft: 5 });
      expect(adminCode.code).not.toBe(code.code);

      expect(ok(await revoke(owner, code.code)).revokeInvite).toBe(true);
      expect(ok(await revoke(admin, code.code)).revokeInvite).toBe(false);
      const refused = await join(late, { code: code.code });
      expect(errorCode(refused)).toBe('NOT_FOUND');
      expect(await view(late, id)).toBeNull();
      expect(ok(await join(late, { code: adminCode.code })).joinConversation.memberCount).toBe(4);
    },
  );

  it.skipIf(!available)('a code stops working when it expires', async () => {
    const [owner, early, late] = people();
    const id = await group(owner, 'Flash sale');
    const expiresAt = new Date(Date.now() + 1_500).toISOString();
    const { code } = await invite(owner, { id, expiresAt });
    ok(await join(early, { code }));
    await sleep(Math.max(0, Date.parse(expiresAt) - Date.now()) + 200);
    const refused = await join(late, { code });
    expect(errorCode(refused)).toBe('NOT_FOUND');
    // One message for every code that does not work.
    const unknown = await join(late, { code: randomBytes(16).toString('base64url') });
    expect(unknown.errors?.[0]?.message).toBe(refused.errors?.[0]?.message);
  });

  it.skipIf(!available)(
    'a MEMBER is FORBIDDEN to manage codes; a non-member gets NOT_FOUND; a direct conversation has none',
    async () => {
      const [owner, member, outsider] = people();
      const id = await group(owner, 'Staff', [member]);
      const { code } = await invite(owner, { id });

      expect(errorCode(await createInvite(member, { id }))).toBe('FORBIDDEN');
      expect(errorCode(await revoke(member, code))).toBe('FORBIDDEN');

      expect(errorCode(await createInvite(outsider, { id }))).toBe('NOT_FOUND');
      expect(errorCode(await createInvite(outsider, { id: randomUUID() }))).toBe('NOT_FOUND');
      expect(errorCode(await createInvite(outsider, { id: 'not-an-id' }))).toBe('NOT_FOUND');
      const foreign = await revoke(outsider, code);
      expect(errorCode(foreign)).toBe('NOT_FOUND');
      const unknown = await revoke(owner, randomBytes(16).toString('base64url'));
      expect(errorCode(unknown)).toBe('NOT_FOUND');
      expect(foreign.errors?.[0]?.message).toBe(unknown.errors?.[0]?.message);
      expect(errorCode(await revoke(owner, 'junk'))).toBe('NOT_FOUND');
      // The code still works: none of the refused calls touched it.
      expect(ok(await join(outsider, { code })).joinConversation.myRole).toBe('MEMBER');

      const direct = ok(
        await app.gql<{ startDirectConversation: { id: string } }>(
          `mutation($phone: String!) { startDirectConversation(phone: $phone) { id } }`,
          { phone: member.phone },
          owner.token,
        ),
      ).startDirectConversation.id;
      expect(errorCode(await createInvite(owner, { id: direct }))).toBe('BAD_USER_INPUT');
    },
  );

  it.skipIf(!available)('a code of 3 uses hit by 8 joiners at once admits exactly 3', async () => {
    const [owner, ...joiners] = people();
    const id = await group(owner, 'Limited seats');
    const { code } = await invite(owner, { id, maxUses: 3 });
    const results = await Promise.all(joiners.map((j) => join(j, { code })));
    expect(results.filter((r) => r.data?.joinConversation).length).toBe(3);
    expect(results.filter((r) => errorCode(r) === 'NOT_FOUND').length).toBe(5);
    expect((await view(owner, id))?.memberCount).toBe(4);
    expect(await inviteRows(id)).toEqual([{ code, uses_left: 0 }]);
  });

  it.skipIf(!available)('joining a group you are in uses nothing', async () => {
    const [owner, twice, second, third] = people();
    const id = await group(owner, 'Two seats');
    const { code } = await invite(owner, { id, maxUses: 2 });
    expect(ok(await join(twice, { code })).joinConversation.memberCount).toBe(2);
    expect(ok(await join(twice, { code })).joinConversation).toMatchObject({
      id,
      myRole: 'MEMBER',
      memberCount: 2,
    });
    // The owner too, with their own code.
    expect(ok(await join(owner, { code })).joinConversation.myRole).toBe('OWNER');
    expect(ok(await join(second, { code })).joinConversation.memberCount).toBe(3);
    expect(errorCode(await join(third, { code }))).toBe('NOT_FOUND');
    // Only one system message per arrival.
    const joinedMessages = (await view(owner, id))!.messages.edges.filter(
      (e) => e.node.systemEvent?.type === 'MEMBER_JOINED',
    );
    expect(joinedMessages.map((e) => e.node.sender.id)).toEqual([twice.id, second.id]);
  });

  it.skipIf(!available)('a group caps its working codes', async () => {
    const [owner, joiner] = people();
    const id = await group(owner, 'Many codes');
    const made = await Promise.all(Array.from({ length: 100 }, () => createInvite(owner, { id })));
    expect(made.every((r) => r.data?.createInvite)).toBe(true);
    const over = await createInvite(owner, { id });
    expect(errorCode(over)).toBe('BAD_USER_INPUT');
    expect(over.errors?.[0]?.message).toMatch(/revoke/);
    // A used-up or revoked code no longer counts.
    ok(await revoke(owner, made[0]!.data!.createInvite.code));
    const single = await invite(owner, { id, maxUses: 1 });
    expect(errorCode(await createInvite(owner, { id }))).toBe('BAD_USER_INPUT');
    ok(await join(joiner, { code: single.code }));
    ok(await createInvite(owner, { id }));
  });

  it.skipIf(!available)(
    'a PUBLIC group is joined by id, a PRIVATE one is not; the joiner sees MEMBER_JOINED, read',
    async () => {
      const [owner, joiner] = people();
      const privateId = await group(owner, 'Private room');
      expect(errorCode(await join(joiner, { id: privateId }))).toBe('NOT_FOUND');
      expect(errorCode(await join(joiner, { id: randomUUID() }))).toBe('NOT_FOUND');
      expect(errorCode(await join(joiner, { id: 'junk' }))).toBe('NOT_FOUND');
      expect(await view(joiner, privateId)).toBeNull();

      const id = await group(owner, 'Open room', [], 'PUBLIC');
      ok(
        await app.gql(
          `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
          { input: { conversationId: id, body: 'welcome, whoever comes' } },
          owner.token,
        ),
      );
      expect(await view(joiner, id)).toBeNull();
      const joined = ok(await join(joiner, { id })).joinConversation;
      expect(joined).toMatchObject({ id, myRole: 'MEMBER', memberCount: 2, unreadCount: 0 });
      const seen = await view(joiner, id);
      expect(seen?.unreadCount).toBe(0);
      const last = seen!.messages.edges.at(-1)!.node;
      expect(last).toMatchObject({
        kind: 'SYSTEM',
        sender: { id: joiner.id },
        systemEvent: { type: 'MEMBER_JOINED', actor: { id: joiner.id }, subject: null },
      });
      // The history from before is there, and read.
      expect(seen!.messages.edges.map((e) => e.node.kind)).toEqual(['USER', 'SYSTEM']);
      expect((await view(owner, id))?.unreadCount).toBe(1);
    },
  );

  it.skipIf(!available)(
    'publicConversations lists PUBLIC groups largest first, searches titles, and pages without repeats or gaps',
    async () => {
      const [owner, a, b, c, outsider] = people();
      const tag = `t${randomBytes(5).toString('hex')}`;
      const small = await group(owner, `${tag} Alpha hikers`, [], 'PUBLIC');
      const large = await group(owner, `${tag} Beta climbers`, [a, b, c], 'PUBLIC');
      const middle = await group(owner, `${tag} Gamma divers`, [a], 'PUBLIC');
      const percent = await group(owner, `${tag} 100%_off`, [a, b], 'PUBLIC');
      const hidden = await group(owner, `${tag} Alpha secret`, [a]);

      const all = await listPublic(outsider, { first: 100 });
      expect(all.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
      const ids = all.edges.map((e) => e.node.id);
      expect(ids).not.toContain(hidden);
      const ours = ids.filter((i) => [small, large, middle, percent].includes(i));
      expect(ours).toEqual([large, percent, middle, small]);
      // Largest first, then by id.
      const keys = all.edges.map((e) => [e.node.memberCount, e.node.id] as const);
      const sorted = [...keys].sort((x, y) => y[0] - x[0] || (x[1] < y[1] ? -1 : 1));
      expect(keys).toEqual(sorted);
      // An outsider sees the groups' details, not their members.
      const largeNode = all.edges.find((e) => e.node.id === large)!.node;
      expect(largeNode).toMatchObject({ memberCount: 4, myRole: null, memberships: [] });

      // Pages of 2 add up to the whole list, each group once.
      const paged: string[] = [];
      let after: string | null = null;
      for (let i = 0; i < 60; i++) {
        const page: PublicPage['publicConversations'] = await listPublic(outsider, {
          first: 2,
          after,
        });
        expect(page.pageInfo.hasPreviousPage).toBe(after !== null);
        paged.push(...page.edges.map((e) => e.node.id));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(paged).toEqual(ids);

      // Search: case-insensitive, anywhere in the title; %, _ and \ are plain characters.
      const titles = async (search: string) =>
        (await listPublic(outsider, { search })).edges.map((e) => e.node.title);
      expect(await titles(`  ${tag.toUpperCase()} alpha HIK `)).toEqual([`${tag} Alpha hikers`]);
      expect(await titles(tag)).toEqual([
        `${tag} Beta climbers`,
        `${tag} 100%_off`,
        `${tag} Gamma divers`,
        `${tag} Alpha hikers`,
      ]);
      expect(await titles('%_')).toEqual([`${tag} 100%_off`]);
      expect(await titles(`${tag}_`)).toEqual([]);
      expect(await titles(`${tag}\\`)).toEqual([]);
      // Blank is no filter.
      expect((await listPublic(outsider, { search: '   ', first: 100 })).edges.length).toBe(
        ids.length,
      );
      // A member sees their membership.
      const mine = await listPublic(a, { search: tag });
      expect(mine.edges.map((e) => e.node.myRole)).toEqual(['MEMBER', 'MEMBER', 'MEMBER', null]);
      expect(mine.edges[0]!.node.memberships).toHaveLength(4);

      // And joins it by id.
      ok(await join(outsider, { id: small }));
      const after2 = await listPublic(outsider, { search: `${tag} Alpha` });
      expect(after2.edges.map((e) => [e.node.id, e.node.memberCount, e.node.myRole])).toEqual([
        [small, 2, 'MEMBER'],
      ]);

      const bad = async (vars: Record<string, unknown>) =>
        errorCode(await app.gql(PUBLIC, vars, outsider.token));
      expect(await bad({ search: 'x'.repeat(101) })).toBe('BAD_USER_INPUT');
      expect(await bad({ first: 101 })).toBe('BAD_USER_INPUT');
      expect(await bad({ first: -1 })).toBe('BAD_USER_INPUT');
      expect(await bad({ after: 'not-a-cursor' })).toBe('BAD_USER_INPUT');
      expect(await bad({ after: all.edges[0]!.cursor.slice(0, -2) })).toBe('BAD_USER_INPUT');
    },
  );

  it.skipIf(!available)('bad input is BAD_USER_INPUT and writes nothing', async () => {
    const [owner, joiner] = people();
    const id = await group(owner, 'Careful', [], 'PUBLIC');
    const { code } = await invite(owner, { id, maxUses: 1 });

    const both = await join(joiner, { id, code });
    expect(errorCode(both)).toBe('BAD_USER_INPUT');
    expect(errorCode(await join(joiner, {}))).toBe('BAD_USER_INPUT');
    expect(errorCode(await join(joiner, { id: null, code: null }))).toBe('BAD_USER_INPUT');

    const past = await createInvite(owner, { id, expiresAt: new Date(Date.now() - 1_000) });
    expect(errorCode(past)).toBe('BAD_USER_INPUT');
    expect(fieldOf(past)).toBe('expiresAt');
    const notADate = await createInvite(owner, { id, expiresAt: 'tomorrow' });
    expect(errorCode(notADate)).toBe('BAD_USER_INPUT');
    for (const maxUses of [0, -1, 100_001]) {
      const res = await createInvite(owner, { id, maxUses });
      expect(errorCode(res)).toBe('BAD_USER_INPUT');
      expect(fieldOf(res)).toBe('maxUses');
    }

    expect(await inviteRows(id)).toEqual([{ code, uses_left: 1 }]);
    expect((await view(owner, id))?.memberCount).toBe(1);
    expect(await view(joiner, id)).toBeNull();
  });

  it.skipIf(!available)('the 31st join within 10 minutes is RATE_LIMITED', async () => {
    const [owner, joiner] = await Promise.all([registerUser(limited), registerUser(limited)]);
    const id = ok(
      await limited.gql<{ createGroupConversation: { id: string } }>(
        GROUP,
        { input: { title: 'Popular', memberPhones: [], visibility: 'PUBLIC' } },
        owner.token,
      ),
    ).createGroupConversation.id;
    const joinHere = (vars: Record<string, unknown>) => limited.gql(JOIN, vars, joiner.token);
    ok(await joinHere({ id }));
    // Guessed codes count as much as joins, and so does joining again.
    for (let i = 0; i < 28; i++) {
      const guess = await joinHere({ code: randomBytes(16).toString('base64url') });
      expect(errorCode(guess)).toBe('NOT_FOUND');
    }
    ok(await joinHere({ id }));
    const refused = await joinHere({ id });
    expect(errorCode(refused)).toBe('RATE_LIMITED');
    expect(refused.errors?.[0]?.extensions?.['retryAfterSeconds']).toBeGreaterThan(0);
    expect(refused.errors?.[0]?.message).toMatch(/joins/);
  });
});
