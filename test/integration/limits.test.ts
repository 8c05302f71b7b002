// Abuse limits: query shape and cost before any resolver runs, rate limits per user, per IP and
// per phone (held in Redis across instances), statement timeouts, introspection and schema hints.
import { randomBytes } from 'node:crypto';
import { getIntrospectionQuery, type IntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import postgres from 'postgres';
import {
  errorCode,
  ok,
  registerUser,
  startApp,
  uniquePhone,
  type GraphQLResponse,
  type TestApp,
} from '../support/app.js';
import { connect, subscribe } from '../support/ws.js';

const apps: TestApp[] = [];
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
});
async function app(...args: Parameters<typeof startApp>) {
  const started = await startApp(...args);
  apps.push(started);
  return started;
}

describe('query shape and cost limits', () => {
  let a: TestApp;
  let token: string;
  beforeAll(async () => {
    a = await app('pglite');
    token = (await registerUser(a)).token;
  });

  const deep = (levels: number) => {
    // conversations → edges → node → lastMessage → sender → presence → user → presence → user ...
    let inner = 'id';
    for (let i = 0; i < levels; i++) inner = `presence { user { ${inner} } }`;
    return `{ me { ${inner} } }`;
  };

  it('rejects queries that are too deep, too aliased, too directive-heavy or too long', async () => {
    expect(ok(await a.gql(deep(4), {}, token))).toBeTruthy();
    const tooDeep = await a.gql(deep(8), {}, token);
    expect(errorCode(tooDeep)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(tooDeep.errors?.[0]?.message).toMatch(/depth/);

    const aliases = Array.from({ length: 25 }, (_, i) => `a${i}: me { id }`).join(' ');
    const tooAliased = await a.gql(`{ ${aliases} }`, {}, token);
    expect(errorCode(tooAliased)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(tooAliased.errors?.[0]?.message).toMatch(/alias/);

    const directives = Array.from({ length: 12 }, () => '@include(if: true)').join(' ');
    const tooDirected = await a.gql(`{ me ${directives} { id } }`, {}, token);
    expect(errorCode(tooDirected)).toBe('GRAPHQL_VALIDATION_FAILED');

    const tokens = Array.from({ length: 3_000 }, () => 'id').join(' ');
    const tooLong = await a.gql(`{ me { ${tokens} } }`, {}, token);
    expect(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED']).toContain(errorCode(tooLong));
  });

  it('prices page sizes: nested pages multiply, and a too expensive query runs no resolver', async () => {
    const cheap = `{ conversations(first: 20) { edges { node { id messages(last: 20) { edges { node { body } } } } } } }`;
    expect(ok(await a.gql(cheap, {}, token))).toBeTruthy();
    // A full page of messages with every attachment field fits: attachments are priced at their
    // bound (10 per message), not as an open-ended list.
    const page = `query($id: ID!, $n: Int) { messages(conversationId: $id, last: $n) { edges { cursor node {
      id seq body createdAt status sender { id displayName }
      attachments { id mimeType size width height filename url thumbnailUrl } } } } }`;
    const unknown = await a.gql(
      page,
      { id: '00000000-0000-4000-8000-000000000000', n: 100 },
      token,
    );
    expect(errorCode(unknown)).toBe('NOT_FOUND');
    const costly = `{ conversations(first: 100) { edges { node { id members { id displayName }
      messages(last: 100) { edges { node { body sender { displayName } } } } } } } }`;
    const res = await a.gql(costly, {}, token);
    expect(errorCode(res)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.errors?.[0]?.message).toMatch(/too expensive/);
    expect(res.data).toBeUndefined();
    // A page size given as a variable is priced at its maximum.
    const viaVariable = await a.gql(
      `query($n: Int) { conversations(first: $n) { edges { node { messages(last: $n) { edges { node { body sender { displayName } } } } } } } }`,
      { n: 1 },
      token,
    );
    expect(errorCode(viaVariable)).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('prices nodes(ids:) at as many ids as written, or at 100 when they come in a variable', async () => {
    const inside = `... on Conversation { messages(last: 100) { edges { node { body sender { displayName } } } } }`;
    const written = await a.gql(`{ nodes(ids: ["a", "b"]) { id ${inside} } }`, {}, token);
    expect(ok(written)).toEqual({ nodes: [null, null] });
    const viaVariable = await a.gql(
      `query($ids: [ID!]!) { nodes(ids: $ids) { id ${inside} } }`,
      { ids: ['a', 'b'] },
      token,
    );
    expect(errorCode(viaVariable)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(viaVariable.errors?.[0]?.message).toMatch(/too expensive/);
  });

  it('applies the same limits to operations over WebSocket', async () => {
    const client = connect(a.wsUrl, token);
    const aliases = Array.from({ length: 25 }, (_, i) => `a${i}: messageAdded { id }`).join(' ');
    const sub = subscribe(client, `subscription { ${aliases} }`);
    await sub.ended();
    expect(sub.errors[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
    await client.dispose();
  });

  it('allows introspection outside production, including the full query IDEs and codegen send', async () => {
    const res = await a.gql(`{ __schema { queryType { name } } }`, {}, token);
    expect(ok(res)).toEqual({ __schema: { queryType: { name: 'Query' } } });
    // GraphiQL's and graphql-codegen's introspection nests 13 levels deep.
    const full = ok(await a.gql<IntrospectionQuery>(getIntrospectionQuery(), {}, token));
    const types = full.__schema.types.map((t) => t.name);
    expect(types).toEqual(expect.arrayContaining(['Message', 'Conversation', 'SendMessageInput']));
    // Its depth allowance is not one for ordinary fields: the same depth there is refused.
    let deep = 'id';
    for (let i = 0; i < 7; i++) deep = `presence { user { ${deep} } }`;
    const refused = await a.gql(`{ me { ${deep} } }`, {}, token);
    expect(refused.errors?.[0]?.message).toBe('Query depth is 16, over the limit of 12.');
  });
});

describe('production mode', () => {
  it('turns introspection off (unless enabled) and never suggests field names', async () => {
    const prod = await app('pglite', { env: { NODE_ENV: 'production' } });
    const token = (await registerUser(prod)).token;
    const intro = await prod.gql(`{ __schema { types { name } } }`, {}, token);
    expect(errorCode(intro)).toBe('GRAPHQL_VALIDATION_FAILED');
    // The message names the setting that turns it on, over HTTP and WebSocket alike.
    expect(intro.errors?.[0]?.message).toMatch(/GRAPHQL_INTROSPECTION=true/);
    expect(intro.errors?.[0]?.message).not.toMatch(/Apollo/);
    const typo = await prod.gql(`{ conversatons { edges { cursor } } }`, {}, token);
    expect(errorCode(typo)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(typo.errors?.[0]?.message).not.toMatch(/Did you mean/);
    const client = connect(prod.wsUrl, token);
    const wsIntro = subscribe(client, `query { __schema { types { name } } }`);
    await wsIntro.ended();
    expect(wsIntro.errors[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(wsIntro.errors[0]?.message).toMatch(/GRAPHQL_INTROSPECTION=true/);
    await client.dispose();

    const open = await app('pglite', {
      env: { NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'true' },
    });
    const openToken = (await registerUser(open)).token;
    expect(ok(await open.gql(`{ __schema { queryType { name } } }`, {}, openToken))).toBeTruthy();
  });
});

describe('rate limits', () => {
  it('limits registrations per address, with retryAfterSeconds; the machine itself far less in embedded development', async () => {
    const proxied = await app('pglite', {
      env: { RATE_LIMIT_MULTIPLIER: '1', TRUST_PROXY: 'true' },
    });
    const registerFrom = async (address: string | null) => {
      const res = await fetch(proxied.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(address ? { 'x-forwarded-for': address } : {}),
        },
        body: JSON.stringify({
          query: `mutation($i: RegisterInput!) { register(input: $i) { token } }`,
          variables: {
            i: { phone: uniquePhone(), displayName: 'Limited', password: 'correct horse battery' },
          },
        }),
      });
      return (await res.json()) as GraphQLResponse;
    };
    const results = [];
    for (let i = 0; i < 11; i++) results.push(await registerFrom('203.0.113.9'));
    expect(results.slice(0, 10).every((r) => !r.errors)).toBe(true);
    const refused = results[10]!;
    expect(errorCode(refused)).toBe('RATE_LIMITED');
    expect(refused.errors?.[0]?.extensions?.['retryAfterSeconds']).toBeGreaterThan(0);
    // A developer on the machine running `npm start` is not stopped after ten sign-ups.
    for (let i = 0; i < 12; i++) expect(errorCode(await registerFrom(null))).toBeUndefined();
  });

  it('locks a phone after repeated failed logins, even for the right password', async () => {
    const fresh = await app('pglite', { env: { RATE_LIMIT_MULTIPLIER: '1' } });
    const user = await registerUser(fresh);
    const login = (password: string) =>
      fresh.gql(`mutation($i: LoginInput!) { login(input: $i) { token } }`, {
        i: { phone: user.phone, password },
      });
    for (let i = 0; i < 5; i++)
      expect(errorCode(await login('wrong password'))).toBe('UNAUTHENTICATED');
    // Five failures lock the phone.
    expect(errorCode(await login('wrong password'))).toBe('RATE_LIMITED');
    const locked = await login('correct horse battery');
    expect(errorCode(locked)).toBe('RATE_LIMITED');
    expect(locked.errors?.[0]?.extensions?.['retryAfterSeconds']).toBeGreaterThan(60);
  });

  it('limits phone lookups per user, over HTTP and WebSocket alike', async () => {
    const fresh = await app('pglite', { env: { RATE_LIMIT_MULTIPLIER: '1' } });
    const user = await registerUser(fresh);
    const LOOKUP = `query($p: String!) { userByPhone(phone: $p) { id } }`;
    for (let i = 0; i < 20; i++) ok(await fresh.gql(LOOKUP, { p: uniquePhone() }, user.token));
    // The remaining 10 of the 30 per minute, spent over the WebSocket.
    const client = connect(fresh.wsUrl, user.token);
    for (let i = 0; i < 10; i++) {
      const q = subscribe(client, LOOKUP, { p: uniquePhone() });
      await q.ended();
      expect(q.errors).toEqual([]);
    }
    const overWs = subscribe(client, LOOKUP, { p: uniquePhone() });
    await overWs.ended();
    expect(overWs.errors[0]?.extensions?.['code']).toBe('RATE_LIMITED');
    expect(errorCode(await fresh.gql(LOOKUP, { p: uniquePhone() }, user.token))).toBe(
      'RATE_LIMITED',
    );
    await client.dispose();
  });
});

const redisUrl = inject('redisUrl');
const postgresUrl = inject('postgresUrl');

describe.skipIf(!redisUrl || !postgresUrl)('rate limits across instances', () => {
  it('holds one budget for a user across two instances sharing Redis', async () => {
    const env = {
      RATE_LIMIT_MULTIPLIER: '1',
      REDIS_KEY_PREFIX: `limits-${randomBytes(4).toString('hex')}:`,
      JWT_SECRET: randomBytes(32).toString('hex'),
    };
    const one = await app('postgres', { redisUrl, env });
    const two = await app('postgres', { redisUrl, env, databaseUrl: one.databaseUrl! });
    const [user, peer] = await Promise.all([registerUser(one), registerUser(one)]);
    const conv = ok(
      await one.gql<{ sendMessage: { conversationId: string } }>(
        `mutation($i: SendMessageInput!) { sendMessage(input: $i) { conversationId } }`,
        { i: { toPhone: peer.phone, body: 'hi' } },
        user.token,
      ),
    ).sendMessage.conversationId;
    const TYPING = `mutation($id: ID!) { setTyping(conversationId: $id, isTyping: true) }`;
    // 60 a minute in all: half on each instance, then both refuse.
    for (let i = 0; i < 30; i++) ok(await one.gql(TYPING, { id: conv }, user.token));
    for (let i = 0; i < 30; i++) ok(await two.gql(TYPING, { id: conv }, user.token));
    expect(errorCode(await one.gql(TYPING, { id: conv }, user.token))).toBe('RATE_LIMITED');
    expect(errorCode(await two.gql(TYPING, { id: conv }, user.token))).toBe('RATE_LIMITED');
    // Another user's budget is untouched.
    ok(await two.gql(TYPING, { id: conv }, peer.token));
  });
});

describe.skipIf(!postgresUrl)('statement timeouts', () => {
  it('turns a statement stuck behind a lock into an error instead of a hang', async () => {
    const a = await app('postgres', { env: { DB_STATEMENT_TIMEOUT_MS: '300' } });
    const [alice, bob] = await Promise.all([registerUser(a), registerUser(a)]);
    const id = ok(
      await a.gql<{ sendMessage: { conversationId: string } }>(
        `mutation($i: SendMessageInput!) { sendMessage(input: $i) { conversationId } }`,
        { i: { toPhone: bob.phone, body: 'hi' } },
        alice.token,
      ),
    ).sendMessage.conversationId;
    // Another session holds the conversation row, as a long transaction would.
    const blocker = postgres(a.databaseUrl!, { max: 1 });
    const reserved = await blocker.reserve();
    await reserved`begin`;
    await reserved`select 1 from conversations where id = ${id} for update`;
    try {
      const res = await a.gql(
        `mutation($i: SendMessageInput!) { sendMessage(input: $i) { seq } }`,
        { i: { conversationId: id, body: 'blocked' } },
        alice.token,
      );
      expect(errorCode(res)).toBe('INTERNAL_SERVER_ERROR');
      expect(JSON.stringify(res)).not.toMatch(/statement timeout|canceling/i);
    } finally {
      await reserved`rollback`;
      reserved.release();
      await blocker.end();
    }
    // Nothing was written by the failed send; the next one goes through.
    const next = ok(
      await a.gql<{ sendMessage: { seq: number } }>(
        `mutation($i: SendMessageInput!) { sendMessage(input: $i) { seq } }`,
        { i: { conversationId: id, body: 'after' } },
        alice.token,
      ),
    );
    expect(next.sendMessage.seq).toBe(2);
  });
});

describe('metrics', () => {
  it('exposes request counts and latency by operation, messages sent and outbox depth', async () => {
    const a = await app('pglite');
    const [x, y] = await Promise.all([registerUser(a), registerUser(a)]);
    for (let i = 0; i < 3; i++) {
      ok(
        await a.gql(
          `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }`,
          {
            i: { toPhone: y.phone, body: `m${i}` },
          },
          x.token,
        ),
      );
    }
    const text = await (await fetch(a.url.replace('/graphql', '/metrics'))).text();
    expect(text).toMatch(
      /parley_graphql_requests_total\{field="sendMessage",kind="mutation",outcome="ok"\} 3/,
    );
    expect(text).toMatch(/parley_messages_sent_total 3/);
    expect(text).toMatch(
      /parley_graphql_request_duration_seconds_count\{field="register",kind="mutation"\} 2/,
    );
    expect(text).toMatch(/parley_outbox_depth \d+/);
    expect(text).toMatch(/parley_websocket_connections 0/);
    expect(text).toMatch(/parley_active_subscriptions/);
    expect(text).toMatch(/parley_pubsub_delivery_lag_seconds/);
  });
});
