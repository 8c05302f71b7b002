// The server as users run it: `npm start` on the embedded default, and production mode on real
// PostgreSQL with several instances starting at once.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../support/services.js';
import {
  gqlAt,
  runFailingStart,
  startServerProcess,
  type ServerProcess,
} from '../support/process.js';

const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { token user { id phone } } }`;
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { token user { id } } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq conversationId } }`;
const HISTORY = `query($id: ID!, $last: Int, $before: String) { messages(conversationId: $id, last: $last, before: $before) {
  edges { node { seq body sender { phone } } } pageInfo { hasPreviousPage startCursor } } }`;

interface Registered {
  register: { token: string; user: { id: string; phone: string } };
}
interface History {
  messages: {
    edges: { node: { seq: number; body: string } }[];
    pageInfo: { hasPreviousPage: boolean; startCursor: string };
  };
}

const dirs: string[] = [];
const servers: ServerProcess[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop('SIGKILL')));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-e2e-'));
  dirs.push(dir);
  return dir;
}

async function registerPair(url: string) {
  const suffix = String(Date.now()).slice(-7);
  const a = (
    await gqlAt<Registered>(url, REGISTER, {
      input: { phone: `+1 555 1${suffix}`, displayName: 'Ann', password: 'password-ann' },
    })
  ).data!.register;
  const b = (
    await gqlAt<Registered>(url, REGISTER, {
      input: { phone: `+1 555 2${suffix}`, displayName: 'Bob', password: 'password-bob' },
    })
  ).data!.register;
  return { a, b };
}

describe('npm start (embedded default)', () => {
  it('serves the API with nothing else installed, keeps data and the signing key across restarts, and stops cleanly', async () => {
    const dataDir = tempDir();
    const first = await startServerProcess({ DATA_DIR: dataDir });
    servers.push(first);
    expect(first.output()).toContain('listening');
    const { a, b } = await registerPair(first.url);
    let conversationId = '';
    for (let i = 1; i <= 12; i++) {
      const from = i % 2 ? a : b;
      const input =
        i === 1
          ? { toPhone: b.user.phone, body: `message ${i}` }
          : { conversationId, body: `message ${i}` };
      const sent = (
        await gqlAt<{ sendMessage: { seq: number; conversationId: string } }>(
          first.url,
          SEND,
          { input },
          from.token,
        )
      ).data!.sendMessage;
      conversationId = sent.conversationId;
      expect(sent.seq).toBe(i);
    }
    const newest = (
      await gqlAt<History>(first.url, HISTORY, { id: conversationId, last: 5 }, b.token)
    ).data!.messages;
    expect(newest.edges.map((e) => e.node.seq)).toEqual([8, 9, 10, 11, 12]);
    const older = (
      await gqlAt<History>(
        first.url,
        HISTORY,
        { id: conversationId, last: 5, before: newest.pageInfo.startCursor },
        b.token,
      )
    ).data!.messages;
    expect(older.edges.map((e) => e.node.seq)).toEqual([3, 4, 5, 6, 7]);

    expect(await first.stop('SIGTERM')).toBe(0);

    const second = await startServerProcess({ DATA_DIR: dataDir });
    servers.push(second);
    // The token issued before the restart still works (the generated secret was kept in DATA_DIR).
    const history = await gqlAt<History>(
      second.url,
      HISTORY,
      { id: conversationId, last: 100 },
      a.token,
    );
    expect(history.data!.messages.edges).toHaveLength(12);
    const login = await gqlAt<{ login: { user: { id: string } } }>(second.url, LOGIN, {
      input: { phone: b.user.phone, password: 'password-bob' },
    });
    expect(login.data!.login.user.id).toBe(b.user.id);
    expect(await second.stop('SIGTERM')).toBe(0);
  });

  it('refuses to start on a bad setting, naming it', async () => {
    const bad = await runFailingStart({ DATA_DIR: tempDir(), PORT: 'eighty' });
    expect(bad.code).toBe(1);
    expect(bad.output).toContain('PORT');
    const prod = await runFailingStart({ DATA_DIR: tempDir(), NODE_ENV: 'production' });
    expect(prod.code).toBe(1);
    expect(prod.output).toContain('JWT_SECRET');
  });
});

const postgresUrl = inject('postgresUrl');

describe.skipIf(!postgresUrl)('production mode on real PostgreSQL', () => {
  it('two instances starting at once on an empty database migrate once and share one truth', async () => {
    const databaseUrl = await createDatabase(postgresUrl, 'parley', { empty: true });
    const env = {
      DATABASE_URL: databaseUrl,
      NODE_ENV: 'production',
      JWT_SECRET: 'e2e-secret-e2e-secret-e2e-secret-e2e-secret',
      DATA_DIR: tempDir(),
    };
    const [one, two] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    servers.push(one, two);
    const { a, b } = await registerPair(one.url);
    // Registered on one, logs in on two; a message retried on the other instance is stored once.
    const login = await gqlAt<{ login: { token: string } }>(two.url, LOGIN, {
      input: { phone: a.user.phone, password: 'password-ann' },
    });
    expect(login.data!.login.token).toBeTruthy();
    const input = { toPhone: b.user.phone, body: 'exactly once', clientMessageId: 'retry-1' };
    const [x, y] = await Promise.all([
      gqlAt<{ sendMessage: { id: string } }>(one.url, SEND, { input }, a.token),
      gqlAt<{ sendMessage: { id: string } }>(two.url, SEND, { input }, login.data!.login.token),
    ]);
    expect(x.data!.sendMessage.id).toBe(y.data!.sendMessage.id);
    // Introspection is off in production.
    const intro = await gqlAt(one.url, '{ __schema { types { name } } }');
    expect(intro.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(await one.stop()).toBe(0);
    expect(await two.stop()).toBe(0);
  });
});
