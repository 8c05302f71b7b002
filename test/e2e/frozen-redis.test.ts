// A frozen Redis must not freeze the API (issue 14). Redis is stopped with SIGSTOP: its TCP
// connections stay open and say nothing, which no error reports (unlike a Redis that shuts
// down). Two instances share it and PostgreSQL; while it is frozen, messages keep being sent.
// Every send (and a sign-in, a phone lookup, a typing update) must complete while Redis is still
// frozen, /readyz must answer 503, and once Redis runs again every subscriber on both instances
// must get every acknowledged message exactly once, in order.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Client } from 'graphql-ws';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createGroupAt,
  gqlAt,
  registerAt,
  startServerProcess,
  type E2eUser,
  type ServerProcess,
} from '../support/process.js';
import { createDatabase, startRedis, type Service } from '../support/services.js';
import { connect, subscribe, type Received } from '../support/ws.js';

const postgresUrl = inject('postgresUrl');
const redisUrl = inject('redisUrl');
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }`;
const ADDED = `subscription($id: ID) { messageAdded(conversationId: $id) { id seq conversationId } }`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const fmt = (ms: number) => `${Math.round(ms)} ms`;

interface Added {
  id: string;
  seq: number;
  conversationId: string;
}
/** One operation sent while Redis was frozen: when it started, when it answered, and how. */
interface Attempt {
  what: string;
  at: number;
  done?: number;
  /** The acknowledged message of a send. */
  sent?: { id: string; seq: number };
  data?: unknown;
  errors?: unknown;
}

const dirs: string[] = [];
const servers: ServerProcess[] = [];
const clients: Client[] = [];
const ownServices: Service[] = [];
let sql: postgres.Sql | undefined;
/** Set while Redis is stopped, so a failing test still lets it run again before teardown. */
let frozenPid: number | undefined;
afterAll(async () => {
  if (frozenPid !== undefined) process.kill(frozenPid, 'SIGCONT');
  await Promise.allSettled(clients.map((c) => c.dispose()));
  await Promise.allSettled(servers.map((s) => s.stop('SIGKILL')));
  await sql?.end({ timeout: 5 });
  await Promise.allSettled(ownServices.map((s) => s.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The status of /readyz and how long it took, or status 0 when no answer came in `timeoutMs`. */
async function readyz(server: ServerProcess, timeoutMs: number) {
  const started = performance.now();
  try {
    const res = await fetch(`http://127.0.0.1:${server.port}/readyz`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - started };
  } catch {
    return { status: 0, ms: performance.now() - started };
  }
}

async function eventually(what: string, condition: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

describe.skipIf(!postgresUrl || !redisUrl)('Redis frozen (SIGSTOP) while messages are sent', () => {
  let redis: Service;
  let a: ServerProcess;
  let b: ServerProcess;
  let ann: E2eUser;
  let bob: E2eUser;

  beforeAll(async () => {
    redis = (await startRedis())!;
    ownServices.push(redis);
    const databaseUrl = await createDatabase(postgresUrl);
    sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-frozen-redis-'));
    dirs.push(dataDir);
    const env = {
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      NODE_ENV: 'production',
      JWT_SECRET: 'frozen-redis-e2e-secret-frozen-redis-e2e-secret',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
    };
    [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    servers.push(a, b);
    [ann, bob] = await Promise.all([registerAt(a, 'ann'), registerAt(b, 'bob')]);
  }, 60_000);

  it('answers every send while frozen, /readyz says 503, and every subscriber catches up exactly once after SIGCONT', async () => {
    const conversationId = await createGroupAt(a, ann, [bob]);
    const ws = (server: ServerProcess, user: E2eUser) => {
      const c = connect(server.url.replace(/^http/, 'ws'), user.token);
      clients.push(c);
      return c;
    };
    const streams: Record<string, Received<Added>> = {
      'conversation on A': subscribe(ws(a, bob), ADDED, { id: conversationId }),
      'conversation on B': subscribe(ws(b, bob), ADDED, { id: conversationId }),
      'all conversations on B': subscribe(ws(b, bob), ADDED, {}),
      "sender's own on A": subscribe(ws(a, ann), ADDED, { id: conversationId }),
    };
    // A stream starts "now": send until every one shows it is live.
    const warmUp: { id: string; seq: number }[] = [];
    await eventually(
      'every stream live',
      async () => {
        const res = await gqlAt<{ sendMessage: { id: string; seq: number } }>(
          a.url,
          SEND,
          { input: { conversationId, body: 'warm-up', clientMessageId: randomUUID() } },
          ann.token,
        );
        if (res.data?.sendMessage) warmUp.push(res.data.sendMessage);
        await sleep(200);
        return Object.values(streams).every((s) => s.items.length > 0);
      },
      15_000,
    );

    // Operations sent while Redis is frozen; each must be answered before it runs again.
    const attempts: Attempt[] = [];
    const track = (what: string, run: () => Promise<{ data?: unknown; errors?: unknown }>) => {
      const attempt: Attempt = { what, at: performance.now() };
      attempts.push(attempt);
      return run()
        .then((res) => {
          const sent = (res.data as { sendMessage?: Attempt['sent'] } | null | undefined)
            ?.sendMessage;
          if (sent) attempt.sent = sent;
          attempt.data = res.data;
          if (res.errors) attempt.errors = res.errors;
        })
        .catch((err: unknown) => {
          attempt.errors = String(err);
        })
        .finally(() => {
          attempt.done = performance.now();
        });
    };
    const sendTo = (server: ServerProcess, n: number) =>
      track(`send ${n}`, () =>
        gqlAt(
          server.url,
          SEND,
          { input: { conversationId, body: `frozen ${n}`, clientMessageId: randomUUID() } },
          ann.token,
        ),
      );

    const FREEZE_MS = 6_000;
    const SENDING_MS = 3_500;
    process.kill(redis.pid, 'SIGSTOP');
    frozenPid = redis.pid;
    const frozenAt = performance.now();
    let resumedAt = 0;
    const readyzWhileFrozen: { status: number; ms: number }[] = [];
    try {
      const pending: Promise<void>[] = [];
      for (let n = 0; performance.now() - frozenAt < SENDING_MS; n++) {
        pending.push(sendTo(n % 2 === 0 ? a : b, n));
        if (n === 5) {
          pending.push(
            track('login', () =>
              gqlAt(b.url, `mutation($input: LoginInput!) { login(input: $input) { token } }`, {
                input: { phone: bob.phone, password: 'password-bob' },
              }),
            ),
            track('userByPhone', () =>
              gqlAt(
                a.url,
                `query($p: String!) { userByPhone(phone: $p) { id } }`,
                { p: bob.phone },
                ann.token,
              ),
            ),
            // Presence lives in Redis: it may fail, but must not hold up the rest of the query.
            track('presence', () =>
              gqlAt(a.url, `query { me { id presence { status } } }`, {}, bob.token),
            ),
            track('setTyping', () =>
              gqlAt(
                b.url,
                `mutation($id: ID!) { setTyping(conversationId: $id, isTyping: true) }`,
                { id: conversationId },
                ann.token,
              ),
            ),
          );
        }
        if (n === 10) {
          readyzWhileFrozen.push(...(await Promise.all([readyz(a, 3_000), readyz(b, 3_000)])));
        }
        await sleep(100);
      }
      // Whatever is still unanswered gets until the end of the freeze.
      await Promise.race([Promise.all(pending), sleep(frozenAt + FREEZE_MS - performance.now())]);
    } finally {
      process.kill(redis.pid, 'SIGCONT');
      frozenPid = undefined;
      resumedAt = performance.now();
    }

    // Every operation was answered while Redis was frozen, and every send was acknowledged.
    const unanswered = attempts.filter((x) => x.done === undefined || x.done >= resumedAt);
    expect(unanswered.map((x) => x.what)).toEqual([]);
    expect(attempts.filter((x) => x.what !== 'presence' && x.errors !== undefined)).toEqual([]);
    expect(attempts.find((x) => x.what === 'presence')?.data).toMatchObject({ me: { id: bob.id } });
    const sends = attempts.filter((x) => x.what.startsWith('send'));
    expect(sends.length).toBeGreaterThan(20);
    expect(readyzWhileFrozen.map((r) => r.status)).toEqual([503, 503]);

    // Redis runs again: everything recovers by itself.
    await eventually(
      '/readyz 200 on both instances after SIGCONT',
      async () =>
        (await readyz(a, 2_000)).status === 200 && (await readyz(b, 2_000)).status === 200,
      10_000,
    );
    const acked = sends.map((x) => x.sent!);
    // No send lost or doubled: each acknowledged once, with its own seq, no gap.
    const ackedSeqs = acked.map((m) => m.seq).sort((x, y) => x - y);
    const lastWarmUp = Math.max(...warmUp.map((m) => m.seq));
    expect(ackedSeqs).toEqual(Array.from({ length: acked.length }, (_, i) => lastWarmUp + 1 + i));
    const lastAcked = ackedSeqs.at(-1)!;
    const caughtUp = await Promise.all(
      Object.values(streams).map(async (s) => {
        await s.until((items) => items.some((m) => m.seq === lastAcked), 10_000);
        return performance.now();
      }),
    );

    // Late duplicates (the outbox drained after a catch-up already delivered) would come now:
    // judge once the outbox is empty and a marker sent afterwards has arrived everywhere.
    await eventually(
      'outbox empty',
      async () => (await sql!`select count(*)::int as n from outbox`)[0]!['n'] === 0,
      10_000,
    );
    const marker = (
      await gqlAt<{ sendMessage: { id: string; seq: number } }>(
        b.url,
        SEND,
        { input: { conversationId, body: 'marker', clientMessageId: randomUUID() } },
        ann.token,
      )
    ).data!.sendMessage;
    for (const s of Object.values(streams)) {
      await s.until((items) => items.some((m) => m.id === marker.id), 10_000);
    }

    const durations = sends.map((x) => x.done! - x.at).sort((x, y) => x - y);
    const quantile = (q: number) =>
      durations[Math.min(durations.length - 1, Math.floor(q * durations.length))]!;
    console.log(
      `[frozen-redis e2e] frozen ${fmt(resumedAt - frozenAt)}, ${sends.length} sends: ` +
        `p50 ${fmt(quantile(0.5))}, p99 ${fmt(quantile(0.99))}, max ${fmt(durations.at(-1)!)}; ` +
        `/readyz while frozen ${readyzWhileFrozen.map((r) => `${r.status} in ${fmt(r.ms)}`).join(', ')}; ` +
        `every subscriber had every message ${fmt(Math.max(...caughtUp) - resumedAt)} after SIGCONT`,
    );

    for (const [name, stream] of Object.entries(streams)) {
      const seqs = stream.items
        .filter((m) => m.conversationId === conversationId)
        .map((m) => m.seq);
      const from = seqs[0]!;
      expect({ name, seqs }).toEqual({
        name,
        seqs: Array.from({ length: marker.seq - from + 1 }, (_, i) => from + i),
      });
      // It began before the freeze, so it holds every message sent during it.
      expect(from).toBeLessThanOrEqual(lastWarmUp);
      expect({ name, errors: stream.errors, ended: stream.completed }).toEqual({
        name,
        errors: [],
        ended: false,
      });
    }
  }, 60_000);
});
