// Phones in lists (issue 14): createGroupConversation and addMembers count every phone against
// the caller's lookup budget, the one userByPhone spends, before any is looked up; they never say
// which phone is unknown; and addMembers answers a non-member before resolving any phone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deployments,
  errorCode,
  ok,
  registerUser,
  startApp,
  uniquePhone,
  type GraphQLResponse,
  type TestApp,
  type TestUser,
} from '../support/app.js';

const CREATE = `mutation($i: CreateGroupConversationInput!) {
  createGroupConversation(input: $i) { id } }`;
const ADD = `mutation($id: ID!, $phones: [String!]!) {
  addMembers(conversationId: $id, phones: $phones) { id } }`;
const LOOKUP = `query($p: String!) { userByPhone(phone: $p) { id } }`;
/** The phone lookups a user may make per minute (rateRules.userByPhone) at multiplier 1. */
const BUDGET = 30;

const unknownPhones = (n: number) => Array.from({ length: n }, () => uniquePhone());

for (const d of deployments()) {
  describe.skipIf(!d.available)(`phone lookups in lists (${d.name})`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startApp(d.backend, {
        ...(d.redisUrl ? { redisUrl: d.redisUrl } : {}),
        env: { RATE_LIMIT_MULTIPLIER: '1' },
      });
    });
    afterAll(() => app.close());

    const create = (user: TestUser, phones: string[]) =>
      app.gql<{ createGroupConversation: { id: string } }>(
        CREATE,
        { i: { title: 'Probe', memberPhones: phones } },
        user.token,
      );
    /** Fails unless the answer is NOT_FOUND without naming any of `phones`. */
    const expectUnnamedNotFound = (res: GraphQLResponse<unknown>, phones: string[]) => {
      expect(errorCode(res)).toBe('NOT_FOUND');
      const message = res.errors?.[0]?.message ?? '';
      for (const phone of phones) expect(message).not.toContain(phone.slice(1));
    };
    const phoneLookups = () => app.statements.filter((s) => /"phone" = any\(/.test(s)).length;

    it('counts each phone of createGroupConversation against the budget userByPhone spends', async () => {
      const user = await registerUser(app);
      for (let i = 0; i < BUDGET / 10; i++) {
        const phones = unknownPhones(10);
        expectUnnamedNotFound(await create(user, phones), phones);
      }
      const refused = await create(user, unknownPhones(1));
      expect(errorCode(refused)).toBe('RATE_LIMITED');
      expect(refused.errors?.[0]?.extensions?.['retryAfterSeconds']).toBeGreaterThan(0);
      expect(refused.errors?.[0]?.message).toMatch(/phone lookups/);
      expect(errorCode(await app.gql(LOOKUP, { p: uniquePhone() }, user.token))).toBe(
        'RATE_LIMITED',
      );
    });

    it('refuses a list longer than the budget left without looking any phone up', async () => {
      const user = await registerUser(app);
      const before = phoneLookups();
      const refused = await create(user, unknownPhones(BUDGET + 1));
      expect(errorCode(refused)).toBe('RATE_LIMITED');
      expect(phoneLookups()).toBe(before);
    });

    it('answers addMembers on a conversation the caller is not in with NOT_FOUND, resolving no phone', async () => {
      const [owner, member, outsider] = await Promise.all([
        registerUser(app),
        registerUser(app),
        registerUser(app),
      ]);
      const group = ok(await create(owner, [member.phone])).createGroupConversation.id;
      const before = phoneLookups();
      for (const id of [group, '00000000-0000-4000-8000-000000000000']) {
        const res = await app.gql(ADD, { id, phones: unknownPhones(BUDGET) }, outsider.token);
        expect(errorCode(res)).toBe('NOT_FOUND');
        expect(res.errors?.[0]?.message).toMatch(/Conversation not found/);
      }
      // Not even a phone's syntax is looked at.
      const garbled = await app.gql(ADD, { id: group, phones: ['not a phone'] }, outsider.token);
      expect(errorCode(garbled)).toBe('NOT_FOUND');
      expect(phoneLookups()).toBe(before);
      // And nothing was taken from the outsider's budget.
      const phones = unknownPhones(BUDGET);
      expectUnnamedNotFound(await create(outsider, phones), phones);
      expect(phoneLookups()).toBe(before + 1);

      // A member's list counts like any other, and its unknown phones go unnamed.
      const first = unknownPhones(BUDGET - 5);
      expectUnnamedNotFound(
        await app.gql(ADD, { id: group, phones: [outsider.phone, ...first] }, member.token),
        first,
      );
      const over = await app.gql(ADD, { id: group, phones: unknownPhones(5) }, member.token);
      expect(errorCode(over)).toBe('RATE_LIMITED');
    });
  });
}
