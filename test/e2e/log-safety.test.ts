// Logs never hold message bodies, passwords or tokens (issue 14): a real server process, at debug
// level, is driven through the failures that log, each carrying a marker string in what must stay
// out of the logs — message bodies while PostgreSQL is down and when it comes back, an over-long
// body, a wrong password at login, a second registration of a phone, invalid bearer tokens over
// HTTP and in a WebSocket's connection_init. Not one log line may hold the marker, and the log
// must show the database errors (so the test cannot pass by logging nothing).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createGroupAt,
  gqlAt,
  registerAt,
  startServerProcess,
  type E2eUser,
  type ServerProcess,
} from '../support/process.js';
import { createDatabase, startPostgres, type PostgresService } from '../support/services.js';
import { connect, subscribe } from '../support/ws.js';

const redisUrl = inject('redisUrl');
const postgresUrl = inject('postgresUrl');
const MARKER = `MARKER-${randomBytes(6).toString('hex')}`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }`;
const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { token } }`;
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { token } }`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let pg: PostgresService | undefined;
let server: ServerProcess | undefined;
const clients: Client[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.dispose()));
  await server?.stop('SIGKILL');
  await pg?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!postgresUrl || !redisUrl)('logs under failures', () => {
  let ann: E2eUser;
  let bob: E2eUser;
  let group: string;

  beforeAll(async () => {
    // A PostgreSQL of its own: this test stops it, and the run's shared one serves other suites.
    pg = (await startPostgres())!;
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-log-safety-'));
    dirs.push(dataDir);
    server = await startServerProcess({
      DATABASE_URL: await createDatabase(pg.url),
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: `log-safety-${randomBytes(4).toString('hex')}:`,
      NODE_ENV: 'production',
      JWT_SECRET: 'log-safety-e2e-secret-log-safety-e2e-secret',
      DATA_DIR: dataDir,
      // Everything the server would ever log, debug lines included.
      LOG_LEVEL: 'debug',
      OUTBOX_GRACE_MS: '200',
      OUTBOX_DRAIN_INTERVAL_MS: '200',
    });
    [ann, bob] = await Promise.all([registerAt(server, 'Ann'), registerAt(server, 'Bob')]);
    group = await createGroupAt(server, ann, [bob]);
  });

  const send = (body: string, clientMessageId: string = randomUUID()) =>
    gqlAt<{ sendMessage: { id: string } }>(
      server!.url,
      SEND,
      { input: { conversationId: group, body, clientMessageId } },
      ann.token,
    ).catch(() => null);

  it('keeps the marker out of every log line, while the database errors are logged', async () => {
    const s = server!;
    // Passwords: a registration, a wrong password at login, the same phone registered again.
    const phone = `+1556${String(process.pid % 1000).padStart(3, '0')}${randomBytes(2).readUInt16BE() % 10_000}`;
    const first = await gqlAt(s.url, REGISTER, {
      input: { phone, displayName: 'Marked', password: `${MARKER}-password` },
    });
    expect(first.errors).toBeUndefined();
    const wrong = await gqlAt(s.url, LOGIN, { input: { phone, password: `${MARKER}-wrong` } });
    expect(wrong.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    const again = await gqlAt(s.url, REGISTER, {
      input: { phone, displayName: 'Marked', password: `${MARKER}-again` },
    });
    expect(again.errors?.[0]?.extensions?.['code']).toBe('CONFLICT');

    // Tokens: an invalid bearer token over HTTP and in connection_init.
    const badHttp = await gqlAt(s.url, `{ me { id } }`, {}, `${MARKER}.token.invalid`);
    expect(badHttp.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    const badSocket = connect(s.url.replace(/^http/, 'ws'), `${MARKER}.socket.invalid`);
    clients.push(badSocket);
    const refused = subscribe(badSocket, `subscription { messageAdded { id } }`);
    await refused.ended(10_000);

    // Bad input: a body over the limit.
    const tooLong = await send(`${MARKER} ${'x'.repeat(5_000)}`);
    expect(tooLong?.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect((await send(`${MARKER} while the database is up`))?.data?.sendMessage).toBeTruthy();

    // The database away: sends (and a socket whose presence cannot be recorded) fail meanwhile.
    await pg!.stopKeepingData('fast');
    const sentWhileDown = await Promise.all(
      Array.from({ length: 12 }, (_, i) => send(`${MARKER} body ${i} while the database is down`)),
    );
    expect(sentWhileDown.some((r) => r?.errors?.length)).toBe(true);
    const bobSocket = connect(s.url.replace(/^http/, 'ws'), bob.token);
    clients.push(bobSocket);
    subscribe(bobSocket, `subscription { presenceChanged { status } }`);
    for (let i = 0; i < 10; i++) {
      await send(`${MARKER} retry ${i} while the database is down`);
      await sleep(100);
    }
    await pg!.start();

    // And once it is back (the first statements may still meet a dead pooled connection).
    for (let i = 0; ; i++) {
      const res = await send(`${MARKER} after the restart ${i}`);
      if (res?.data?.sendMessage) break;
      expect(i, 'sendMessage never worked again after the restart').toBeLessThan(100);
      await sleep(200);
    }
    await sleep(1_000);
    await s.stop();

    const lines = s.output().split('\n');
    const marked = lines.filter((line) => line.includes(MARKER));
    const databaseErrors = lines.filter((line) => line.includes('Failed query'));
    console.info(
      `log-safety: ${lines.length} log lines, ${databaseErrors.length} with a database error, ${marked.length} holding the marker`,
    );
    expect(marked.length, `log lines holding the marker:\n${marked.join('\n')}`).toBe(0);
    // The failures were logged, as errors a person can act on: the failed statement and why.
    expect(databaseErrors.length).toBeGreaterThan(0);
    expect(lines.some((line) => line.includes('unexpected error'))).toBe(true);
  });
});
