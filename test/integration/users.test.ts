import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgArray, queryRows } from '../../src/db/client.js';
import {
  backends,
  errorCode,
  ok,
  registerUser,
  startApp,
  uniquePhone,
  type TestApp,
} from '../support/app.js';

const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { token user { id phone displayName } } }`;
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { token user { id phone } } }`;
const ME = `{ me { id phone displayName } }`;

describe.each(backends())('users on $name', ({ name, available }) => {
  let app: TestApp;
  beforeAll(async () => {
    if (available) app = await startApp(name);
  });
  afterAll(async () => app?.close());

  it.skipIf(!available)(
    'registers with a formatted phone, stores E.164, and logs in with another format',
    async () => {
      const digits = uniquePhone().slice(1); // e.g. 1555000001
      const formatted = `+${digits.slice(0, 1)} (${digits.slice(1, 4)}) ${digits.slice(4, 7)}-${digits.slice(7)}`;
      const reg = ok(
        await app.gql<{
          register: { token: string; user: { id: string; phone: string; displayName: string } };
        }>(REGISTER, {
          input: { phone: formatted, displayName: '  Ann  ', password: 'password-123' },
        }),
      );
      expect(reg.register.user.phone).toBe(`+${digits}`);
      expect(reg.register.user.displayName).toBe('Ann');

      const dotted = `+${digits.slice(0, 4)}.${digits.slice(4)}`;
      const login = ok(
        await app.gql<{ login: { token: string; user: { id: string } } }>(LOGIN, {
          input: { phone: dotted, password: 'password-123' },
        }),
      );
      expect(login.login.user.id).toBe(reg.register.user.id);
      const me = ok(await app.gql<{ me: { id: string } }>(ME, {}, login.login.token));
      expect(me.me.id).toBe(reg.register.user.id);
    },
  );

  it.skipIf(!available)('rejects a taken phone with CONFLICT, however it is written', async () => {
    const user = await registerUser(app, 'First');
    const res = await app.gql(REGISTER, {
      input: {
        phone: user.phone.replace(/^(\+\d)(\d{3})/, '$1 $2 '),
        displayName: 'Second',
        password: 'password-123',
      },
    });
    expect(errorCode(res)).toBe('CONFLICT');
    const login = ok(
      await app.gql<{ login: { user: { id: string } } }>(LOGIN, {
        input: { phone: user.phone, password: 'correct horse battery' },
      }),
    );
    expect(login.login.user.id).toBe(user.id);
  });

  it.skipIf(!available)(
    'rejects bad registrations with BAD_USER_INPUT and stores nothing',
    async () => {
      const phone = uniquePhone();
      const cases = [
        { phone: 'not a phone', displayName: 'X', password: 'password-123' },
        { phone: '15551234567', displayName: 'X', password: 'password-123' },
        { phone: '+1234567', displayName: 'X', password: 'password-123' },
        { phone, displayName: '', password: 'password-123' },
        { phone, displayName: 'x'.repeat(65), password: 'password-123' },
        { phone, displayName: 'Ok', password: 'short' },
      ];
      for (const input of cases) {
        const res = await app.gql(REGISTER, { input });
        expect(errorCode(res), JSON.stringify(input)).toBe('BAD_USER_INPUT');
        expect(res.errors?.[0]?.message).toMatch(/phone|displayName|password/);
      }
      // Nothing was stored: the phone used in the failed attempts is still free.
      const reg = ok(
        await app.gql<{ register: { user: { phone: string } } }>(REGISTER, {
          input: { phone, displayName: 'Ok', password: 'password-123' },
        }),
      );
      expect(reg.register.user.phone).toBe(phone);
    },
  );

  it.skipIf(!available)(
    'gives the same UNAUTHENTICATED answer for an unknown phone and a wrong password',
    async () => {
      const user = await registerUser(app);
      const wrongPassword = await app.gql(LOGIN, {
        input: { phone: user.phone, password: 'wrong password' },
      });
      const unknownPhone = await app.gql(LOGIN, {
        input: { phone: uniquePhone(), password: 'correct horse battery' },
      });
      const malformedPhone = await app.gql(LOGIN, { input: { phone: 'abc', password: 'x' } });
      for (const res of [wrongPassword, unknownPhone, malformedPhone]) {
        expect(errorCode(res)).toBe('UNAUTHENTICATED');
        expect(res.data).toBeNull();
      }
      expect(unknownPhone.errors?.[0]?.message).toBe(wrongPassword.errors?.[0]?.message);
      expect(malformedPhone.errors?.[0]?.message).toBe(wrongPassword.errors?.[0]?.message);
    },
  );

  it.skipIf(!available)('refuses operations without a valid token', async () => {
    expect(errorCode(await app.gql(ME))).toBe('UNAUTHENTICATED');
    expect(errorCode(await app.gql(ME, {}, 'garbage'))).toBe('UNAUTHENTICATED');
    const user = await registerUser(app);
    const tampered = user.token.slice(0, -4) + (user.token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect(errorCode(await app.gql(ME, {}, tampered))).toBe('UNAUTHENTICATED');
    const res = await app.gql(
      `mutation { sendMessage(input: { toPhone: "${user.phone}", body: "hi" }) { id } }`,
    );
    expect(errorCode(res)).toBe('UNAUTHENTICATED');
  });

  it.skipIf(!available)('updates the display name and finds users by phone', async () => {
    const ann = await registerUser(app, 'Ann');
    const bob = await registerUser(app, 'Bob');
    const updated = ok(
      await app.gql<{ updateProfile: { displayName: string } }>(
        `mutation { updateProfile(input: { displayName: "Annie" }) { displayName } }`,
        {},
        ann.token,
      ),
    );
    expect(updated.updateProfile.displayName).toBe('Annie');
    const found = ok(
      await app.gql<{ userByPhone: { id: string; displayName: string } | null }>(
        `query($p: String!) { userByPhone(phone: $p) { id displayName } }`,
        { p: ann.phone },
        bob.token,
      ),
    );
    expect(found.userByPhone).toEqual({ id: ann.id, displayName: 'Annie' });
    const missing = ok(
      await app.gql<{ userByPhone: null }>(
        `query($p: String!) { userByPhone(phone: $p) { id } }`,
        { p: uniquePhone() },
        bob.token,
      ),
    );
    expect(missing.userByPhone).toBeNull();
    const bad = await app.gql(`{ userByPhone(phone: "12") { id } }`, {}, bob.token);
    expect(errorCode(bad)).toBe('BAD_USER_INPUT');
    const empty = await app.gql(
      `mutation { updateProfile(input: { displayName: "   " }) { displayName } }`,
      {},
      ann.token,
    );
    expect(errorCode(empty)).toBe('BAD_USER_INPUT');
  });

  it.skipIf(!available)('never exposes a password hash or a stack trace', async () => {
    const user = await registerUser(app);
    const res = await app.gql(`{ me { passwordHash } }`, {}, user.token);
    expect(errorCode(res)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(JSON.stringify(res)).not.toMatch(/argon2|stacktrace|at .*\.ts:\d+/);
  });

  it.skipIf(!available)(
    'batched lookups pass any values as one array parameter, unchanged, with one statement text',
    async () => {
      const awkward = ['a"b', 'c\\d', 'e,f', '{g}', ' h ', 'NULL', '', 'ü😀'];
      const rows = await queryRows<{ v: string }>(
        app.database.db,
        sql`select unnest(${pgArray(awkward, 'text')}) as v`,
      );
      expect(rows.map((r) => r.v)).toEqual(awkward);
      // Groups with one and with three members look their phones up with the same statement.
      const owner = await registerUser(app);
      for (const size of [1, 3]) {
        const members = await Promise.all(Array.from({ length: size }, () => registerUser(app)));
        ok(
          await app.gql(
            `mutation($i: CreateGroupConversationInput!) { createGroupConversation(input: $i) { id } }`,
            { i: { title: `Arrays ${size}`, memberPhones: members.map((u) => u.phone) } },
            owner.token,
          ),
        );
      }
      const lookups = app.statements.filter((q) => q.includes('"users"."phone" = any('));
      expect(lookups.length).toBeGreaterThanOrEqual(2);
      expect(new Set(lookups).size).toBe(1);
    },
  );
});
