// Email sign-in (issue 18): an account made with an email address instead of a phone, signing in
// with it (lockout and all), keeping the address to itself, adding the identifier it lacks, and
// being reached by email or id where others are reached by phone. One app per backend at the
// real rate limits, each caller at its own client address (TRUST_PROXY) so that the per-address
// limits of register and login count only what a case means them to.
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import {
  backends,
  errorCode,
  ok,
  startApp,
  uniquePhone,
  type GraphQLResponse,
  type TestApp,
} from '../support/app.js';
import { connect, probe, subscribe } from '../support/ws.js';

const PASSWORD = 'correct horse battery';
const USER = `id phone email displayName`;
const REGISTER = `mutation($i: RegisterInput!) { register(input: $i) { token user { ${USER} } } }`;
const LOGIN = `mutation($i: LoginInput!) { login(input: $i) { token user { ${USER} } } }`;
const ME = `{ me { ${USER} } }`;
const BY_EMAIL = `query($e: String!) { userByEmail(email: $e) { ${USER} } }`;
const BY_PHONE = `query($p: String!) { userByPhone(phone: $p) { id } }`;
const UPDATE = `mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { ${USER} } }`;
const CONVERSATION = `id kind members { ${USER} }`;
const START = `mutation($phone: String, $email: String, $userId: ID) {
  startDirectConversation(phone: $phone, email: $email, userId: $userId) { ${CONVERSATION} } }`;
const GROUP = `mutation($i: CreateGroupConversationInput!) {
  createGroupConversation(input: $i) { ${CONVERSATION} } }`;
const ADD = `mutation($id: ID!, $phones: [String!], $userIds: [ID!]) {
  addMembers(conversationId: $id, phones: $phones, userIds: $userIds) { ${CONVERSATION} } }`;
const SEND = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id conversationId } }`;
const ADDED = `subscription($id: ID) { messageAdded(conversationId: $id) {
  id body sender { ${USER} } } }`;
const MESSAGES = `query($id: ID!) { messages(conversationId: $id, last: 10) {
  edges { node { body sender { ${USER} } } } } }`;
const LIST = `{ conversations(first: 100) { edges { node { id } } } }`;

interface User {
  id: string;
  phone: string | null;
  email: string | null;
  displayName: string;
}
interface Account extends User {
  token: string;
}
interface Conversation {
  id: string;
  kind: string;
  members: User[];
}

let counter = 0;
/** An address no other request of this run has come from (100.64.0.0/10, shared space). */
const freshAddress = () => {
  counter += 1;
  return `100.64.${Math.floor(counter / 250)}.${(counter % 250) + 1}`;
};
/** An address nobody has, in mixed case (as people type them). */
const uniqueEmail = () => `Ann.${randomUUID().slice(0, 8)}@Example.COM`;
/** The same address in other letter cases. */
const swapCase = (s: string) =>
  [...s].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('');

describe.each(backends())('email sign-in on $name', ({ name, available }) => {
  let app: TestApp;
  beforeAll(async () => {
    if (available) {
      app = await startApp(name, { env: { RATE_LIMIT_MULTIPLIER: '1', TRUST_PROXY: 'true' } });
    }
  });
  afterAll(async () => app?.close());

  /** A GraphQL request from a client address of its own (or the one given). */
  const post = async <T = Record<string, unknown>>(
    query: string,
    variables: Record<string, unknown>,
    opts: { token?: string; address?: string } = {},
  ): Promise<GraphQLResponse<T>> => {
    const res = await fetch(app.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-forwarded-for': opts.address ?? freshAddress(),
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as GraphQLResponse<T>;
  };
  type Auth = { token: string; user: User };
  const register = (input: Record<string, unknown>) =>
    post<{ register: Auth }>(REGISTER, { i: { displayName: 'Ann', password: PASSWORD, ...input } });
  const account = async (input: { email: string } | { phone: string }, displayName = 'Ann') => {
    const { register: auth } = ok(await register({ ...input, displayName }));
    return { ...auth.user, token: auth.token } satisfies Account;
  };
  const login = (input: Record<string, unknown>, address?: string) =>
    post<{ login: Auth }>(LOGIN, { i: { password: PASSWORD, ...input } }, { address });
  const as = <T = Record<string, unknown>>(
    who: Account,
    query: string,
    variables: Record<string, unknown> = {},
  ) => app.gql<T>(query, variables, who.token);
  const field = (res: GraphQLResponse<unknown>) => res.errors?.[0]?.extensions?.['field'];
  const usersWithEmail = async (email: string) =>
    (
      await queryRows<{ n: number }>(
        app.database.db,
        sql`select count(*)::int as n from users where lower(email) = lower(${email})`,
      )
    )[0]!.n;

  it.skipIf(!available)(
    'registers with an email: trimmed, kept as typed, no phone; signs in with it in any letter case',
    async () => {
      const email = uniqueEmail();
      const reg = ok(await register({ email: `  ${email}\t` })).register;
      expect(reg.user).toMatchObject({ phone: null, email, displayName: 'Ann' });
      const signedIn = ok(await login({ email: swapCase(email) })).login;
      expect(signedIn.user.id).toBe(reg.user.id);
      const me = ok(await app.gql<{ me: User }>(ME, {}, signedIn.token)).me;
      expect(me).toEqual({ id: reg.user.id, phone: null, email, displayName: 'Ann' });
    },
  );

  it.skipIf(!available)(
    'wants exactly one of phone and email, and a well-formed address; writes nothing otherwise',
    async () => {
      const [email, phone] = [uniqueEmail(), uniquePhone()];
      const both = await register({ email, phone });
      const neither = await register({});
      const nulls = await register({ email: null, phone: null });
      for (const res of [both, neither, nulls]) {
        expect(errorCode(res)).toBe('BAD_USER_INPUT');
        expect(res.errors?.[0]?.message).toMatch(/exactly one of phone and email/);
      }
      for (const bad of ['', 'ann', 'ann@example', 'ann @example.com', 'a@b@example.com']) {
        const res = await register({ email: bad });
        expect(errorCode(res), bad).toBe('BAD_USER_INPUT');
        expect(field(res)).toBe('email');
      }
      const long = `${'a'.repeat(243)}@example.com`; // 255 characters
      expect(field(await register({ email: long }))).toBe('email');
      expect(errorCode(await login({ email, phone }))).toBe('BAD_USER_INPUT');
      expect(errorCode(await login({}))).toBe('BAD_USER_INPUT');
      // Nothing was stored: both identifiers are still free.
      await account({ email });
      await account({ phone });
    },
  );

  it.skipIf(!available)(
    'refuses an address already registered in any letter case with CONFLICT',
    async () => {
      const email = uniqueEmail();
      const first = await account({ email });
      for (const again of [email, swapCase(email), ` ${email.toLowerCase()} `]) {
        const res = await register({ email: again, displayName: 'Other' });
        expect(errorCode(res)).toBe('CONFLICT');
        expect(field(res)).toBe('email');
      }
      expect(ok(await login({ email })).login.user.id).toBe(first.id);
    },
  );

  it.skipIf(!available)(
    'concurrent registrations of one address in different letter case make ONE account',
    async () => {
      const email = uniqueEmail();
      const spellings = [email, email.toLowerCase(), email.toUpperCase(), swapCase(email)];
      const answers = await Promise.all(
        [...spellings, ...spellings].map((e) => register({ email: e })),
      );
      expect(answers.filter((a) => a.data?.register).length).toBe(1);
      expect(answers.filter((a) => errorCode(a) === 'CONFLICT').length).toBe(7);
      expect(await usersWithEmail(email)).toBe(1);
    },
  );

  it.skipIf(!available)(
    'gives the same UNAUTHENTICATED answer for an unknown address, a malformed one and a wrong password',
    async () => {
      const user = await account({ email: uniqueEmail() });
      const address = freshAddress();
      const wrong = await login({ email: user.email, password: 'wrong password' }, address);
      const unknown = await login({ email: uniqueEmail() }, address);
      const malformed = await login({ email: 'not an address' }, address);
      for (const res of [wrong, unknown, malformed]) {
        expect(errorCode(res)).toBe('UNAUTHENTICATED');
        expect(res.data).toBeNull();
        expect(res.errors?.[0]?.message).toBe(wrong.errors?.[0]?.message);
      }
    },
  );

  it.skipIf(!available)(
    'locks an address out of an email after five attempts, whatever the letter case; not the owner elsewhere',
    async () => {
      const user = await account({ email: uniqueEmail() });
      const stranger = freshAddress();
      const spellings = [user.email!, swapCase(user.email!), user.email!.toLowerCase()];
      for (let i = 0; i < 5; i++) {
        const res = await login({ email: spellings[i % 3], password: 'wrong' }, stranger);
        expect(errorCode(res)).toBe('UNAUTHENTICATED');
      }
      for (const email of spellings) {
        const res = await login({ email }, stranger);
        expect(errorCode(res)).toBe('RATE_LIMITED');
        expect(res.errors?.[0]?.message).toMatch(/from this address/);
      }
      ok(await login({ email: user.email }, freshAddress()));
    },
  );

  it.skipIf(!available)(
    'shows an email to its owner only; userByEmail finds any letter case on the userByPhone budget',
    async () => {
      const ann = await account({ email: uniqueEmail() }, 'Ann');
      const bob = await account({ phone: uniquePhone() }, 'Bob');
      const found = ok(await as<{ userByEmail: User }>(bob, BY_EMAIL, { e: swapCase(ann.email!) }));
      expect(found.userByEmail).toEqual({
        id: ann.id,
        phone: null,
        email: null,
        displayName: 'Ann',
      });
      expect(ok(await as(bob, BY_EMAIL, { e: uniqueEmail() })).userByEmail).toBeNull();
      const malformed = await as(bob, BY_EMAIL, { e: 'bob at example' });
      expect(errorCode(malformed)).toBe('BAD_USER_INPUT');
      expect(field(malformed)).toBe('email');

      // In a conversation each sees their own address and not the other's.
      const chat = ok(
        await as<{ startDirectConversation: Conversation }>(bob, START, { userId: ann.id }),
      );
      const byId = (members: User[], id: string) => members.find((m) => m.id === id);
      expect(byId(chat.startDirectConversation.members, ann.id)?.email).toBeNull();
      const seenByAnn = ok(
        await as<{ conversation: Conversation }>(
          ann,
          `query($id: ID!) { conversation(id: $id) { ${CONVERSATION} } }`,
          {
            id: chat.startDirectConversation.id,
          },
        ),
      ).conversation;
      expect(byId(seenByAnn.members, ann.id)?.email).toBe(ann.email);
      expect(byId(seenByAnn.members, bob.id)?.email).toBeNull();

      // One budget of 30 lookups a minute, however they are mixed.
      const carol = await account({ phone: uniquePhone() }, 'Carol');
      for (let i = 0; i < 30; i++) {
        const res =
          i % 2 === 0
            ? await as(carol, BY_EMAIL, { e: uniqueEmail() })
            : await as(carol, BY_PHONE, { p: uniquePhone() });
        ok(res);
      }
      for (const res of [
        await as(carol, BY_EMAIL, { e: ann.email }),
        await as(carol, BY_PHONE, { p: bob.phone }),
      ]) {
        expect(errorCode(res)).toBe('RATE_LIMITED');
        expect(res.errors?.[0]?.message).toMatch(/email lookups/);
      }
    },
  );

  it.skipIf(!available)(
    'updateProfile adds the identifier an account lacks, and nothing else',
    async () => {
      const ann = await account({ email: uniqueEmail() }, 'Ann');
      const bob = await account({ phone: uniquePhone() }, 'Bob');
      const update = (who: Account, i: Record<string, unknown>) =>
        as<{ updateProfile: User }>(who, UPDATE, { i });

      expect(errorCode(await update(ann, {}))).toBe('BAD_USER_INPUT');
      // A phone someone else has: CONFLICT, and the name given with it is not written either.
      const taken = await update(ann, { phone: bob.phone, displayName: 'Annie' });
      expect(errorCode(taken)).toBe('CONFLICT');
      expect(field(taken)).toBe('phone');
      expect(ok(await as<{ me: User }>(ann, ME)).me.displayName).toBe('Ann');
      expect(field(await update(ann, { phone: 'not a phone' }))).toBe('phone');

      // Added in any common formatting, stored in E.164; the same again changes nothing.
      const phone = uniquePhone();
      const spaced = `${phone.slice(0, 2)} ${phone.slice(2, 5)} ${phone.slice(5)}`;
      const added = ok(await update(ann, { phone: spaced, displayName: 'Annie' })).updateProfile;
      expect(added).toEqual({ id: ann.id, phone, email: ann.email, displayName: 'Annie' });
      expect(ok(await update(ann, { phone })).updateProfile).toEqual(added);
      const other = await update(ann, { phone: uniquePhone(), displayName: 'Anna' });
      expect(errorCode(other)).toBe('BAD_USER_INPUT');
      expect(field(other)).toBe('phone');
      expect(ok(await as<{ me: User }>(ann, ME)).me).toEqual(added);
      // Ann can now sign in with either.
      expect(ok(await login({ phone })).login.user.id).toBe(ann.id);

      // Bob adds an email; another case of it is the same one; a different one is refused.
      const email = uniqueEmail();
      expect(errorCode(await update(bob, { email: ann.email!.toLowerCase() }))).toBe('CONFLICT');
      const withEmail = ok(await update(bob, { email })).updateProfile;
      expect(withEmail).toMatchObject({ phone: bob.phone, email });
      expect(ok(await update(bob, { email: swapCase(email) })).updateProfile.email).toBe(email);
      const different = await update(bob, { email: uniqueEmail() });
      expect(errorCode(different)).toBe('BAD_USER_INPUT');
      expect(field(different)).toBe('email');
      expect(field(await update(bob, { email: 'bob@' }))).toBe('email');
      expect(ok(await login({ email: swapCase(email) })).login.user.id).toBe(bob.id);
      // Nobody else sees it.
      const seen = ok(await as<{ userByEmail: User }>(ann, BY_EMAIL, { e: email })).userByEmail;
      expect(seen).toMatchObject({ id: bob.id, email: null });
    },
  );

  it.skipIf(!available)(
    'a user without a phone sends a message another member receives live, sender.phone null',
    async () => {
      const ann = await account({ email: uniqueEmail() }, 'Ann');
      const bob = await account({ phone: uniquePhone() }, 'Bob');
      const id = ok(
        await as<{ startDirectConversation: Conversation }>(ann, START, { phone: bob.phone }),
      ).startDirectConversation.id;
      // Ann follows her own conversation with the same document: one event, two viewers, and
      // each sees the sender as they may (her own address to her only).
      const annClient = connect(app.wsUrl, ann.token);
      const client = connect(app.wsUrl, bob.token);
      try {
        type Added = { id: string; body: string; sender: User };
        const own = subscribe<Added>(annClient, ADDED, { id });
        await probe(own, (n) => as(ann, SEND, { i: { conversationId: id, body: `mine ${n}` } }));
        const live = subscribe<Added>(client, ADDED, { id });
        await probe(live, (n) => as(ann, SEND, { i: { conversationId: id, body: `hello ${n}` } }));
        const [first] = live.items;
        expect(first!.body).toMatch(/^hello \d+$/);
        expect(first!.sender).toEqual({ id: ann.id, phone: null, email: null, displayName: 'Ann' });
        await own.until((items) => items.some((m) => m.id === first!.id), 5_000);
        const ownCopy = own.items.find((m) => m.id === first!.id);
        expect(ownCopy!.sender).toEqual({
          id: ann.id,
          phone: null,
          email: ann.email,
          displayName: 'Ann',
        });
        live.stop();
        own.stop();
      } finally {
        await client.dispose();
        await annClient.dispose();
      }
      // In history too; to Ann, her own message shows her address.
      type Page = { messages: { edges: { node: { sender: User } }[] } };
      const bobsPage = ok(await as<Page>(bob, MESSAGES, { id })).messages.edges;
      expect(bobsPage[0]!.node.sender).toMatchObject({ phone: null, email: null });
      const annsPage = ok(await as<Page>(ann, MESSAGES, { id })).messages.edges;
      expect(annsPage[0]!.node.sender).toMatchObject({ phone: null, email: ann.email });
    },
  );

  it.skipIf(!available)(
    'opens a 1:1 by email or id: one conversation, even when both open it at once',
    async () => {
      const ann = await account({ email: uniqueEmail() }, 'Ann');
      const bob = await account({ email: uniqueEmail() }, 'Bob');
      const start = (who: Account, args: Record<string, unknown>) =>
        as<{ startDirectConversation: Conversation }>(who, START, args);
      const answers = await Promise.all([
        start(ann, { email: swapCase(bob.email!) }),
        start(bob, { userId: ann.id }),
        start(ann, { userId: bob.id }),
        start(bob, { email: ann.email }),
      ]);
      const ids = new Set(answers.map((a) => ok(a).startDirectConversation.id));
      expect(ids.size).toBe(1);
      const chat = ok(answers[0]!).startDirectConversation;
      expect(chat.kind).toBe('DIRECT');
      expect(chat.members.map((m) => m.id).sort()).toEqual([ann.id, bob.id].sort());

      const refused: [Record<string, unknown>, string, string][] = [
        [{ email: uniqueEmail() }, 'NOT_FOUND', ''],
        [{ userId: randomUUID() }, 'NOT_FOUND', ''],
        [{ userId: 'not-an-id' }, 'NOT_FOUND', ''],
        [{ email: 'nope' }, 'BAD_USER_INPUT', 'email'],
        [{ email: swapCase(ann.email!) }, 'BAD_USER_INPUT', 'email'],
        [{ userId: ann.id }, 'BAD_USER_INPUT', 'userId'],
        [{}, 'BAD_USER_INPUT', 'phone'],
        [{ email: bob.email, userId: bob.id }, 'BAD_USER_INPUT', 'userId'],
      ];
      for (const [args, code, name] of refused) {
        const res = await start(ann, args);
        expect(errorCode(res), JSON.stringify(args)).toBe(code);
        if (name) expect(field(res), JSON.stringify(args)).toBe(name);
      }
      const list = ok(await as<{ conversations: { edges: unknown[] } }>(ann, LIST));
      expect(list.conversations.edges).toHaveLength(1);
    },
  );

  it.skipIf(!available)(
    'creates groups and adds members by id: duplicates collapse, an unknown id changes nothing',
    async () => {
      const owner = await account({ email: uniqueEmail() }, 'Owner');
      const [ann, bob, cat] = await Promise.all([
        account({ email: uniqueEmail() }, 'Ann'),
        account({ phone: uniquePhone() }, 'Bob'),
        account({ email: uniqueEmail() }, 'Cat'),
      ]);
      const conversationsOf = async (who: Account) =>
        ok(await as<{ conversations: { edges: unknown[] } }>(who, LIST)).conversations.edges.length;
      const memberIds = (c: Conversation) => c.members.map((m) => m.id).sort();

      // An unknown id among known ones: NOT_FOUND, and no group for anyone.
      const unknown = await as(owner, GROUP, {
        i: { title: 'Nope', memberIds: [ann.id, randomUUID()] },
      });
      expect(errorCode(unknown)).toBe('NOT_FOUND');
      expect(await conversationsOf(ann)).toBe(0);
      expect(await conversationsOf(owner)).toBe(0);

      const group = ok(
        await as<{ createGroupConversation: Conversation }>(owner, GROUP, {
          i: {
            title: 'Ids',
            memberIds: [ann.id, bob.id, ann.id, owner.id],
            memberPhones: [bob.phone],
          },
        }),
      ).createGroupConversation;
      expect(memberIds(group)).toEqual([owner.id, ann.id, bob.id].sort());

      const add = (args: Record<string, unknown>) =>
        as<{ addMembers: Conversation }>(owner, ADD, { id: group.id, ...args });
      expect(errorCode(await add({ userIds: [cat.id, randomUUID()] }))).toBe('NOT_FOUND');
      expect(errorCode(await add({ userIds: ['garbage'] }))).toBe('NOT_FOUND');
      expect(await conversationsOf(cat)).toBe(0);
      const added = ok(await add({ userIds: [cat.id, cat.id, ann.id] })).addMembers;
      expect(memberIds(added)).toEqual([owner.id, ann.id, bob.id, cat.id].sort());
      expect(await conversationsOf(cat)).toBe(1);

      // Ids count with phones against the per-call limit (2,000).
      const many = Array.from({ length: 1_001 }, () => randomUUID());
      const tooMany = await add({
        userIds: many,
        phones: many.slice(0, 1_000).map(() => uniquePhone()),
      });
      expect(errorCode(tooMany)).toBe('BAD_USER_INPUT');
      const tooManyIds = await as(owner, GROUP, {
        i: { title: 'Big', memberIds: [...many, ...many.slice(0, 1_000).map(() => randomUUID())] },
      });
      expect(errorCode(tooManyIds)).toBe('BAD_USER_INPUT');
      expect(field(tooManyIds)).toBe('memberIds');
    },
  );
});
