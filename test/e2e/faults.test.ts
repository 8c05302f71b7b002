// Faults with real processes: Redis stopped for ~10 s while messages are sent, PostgreSQL
// restarted under load, and SIGTERM with requests in flight and WebSocket clients connected.
// Every scenario that kills a service runs on its own (dedicated) server, so the shared ones of
// the run stay up for the other suites.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Client } from 'graphql-ws';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  startServerProcess,
  type ServerProcess,
  registerAt as register,
  createGroupAt as group,
} from '../support/process.js';
import {
  createDatabase,
  startPostgres,
  startRedis,
  type PostgresService,
  type Service,
} from '../support/services.js';
import { connect, subscribe, type Received } from '../support/ws.js';

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq conversationId clientMessageId } }`;
const MESSAGES = `query($id: ID!, $after: String) { messages(conversationId: $id, first: 100, after: $after) {
  edges { cursor node { id seq clientMessageId } } pageInfo { hasNextPage endCursor } } }`;
const ADDED = `subscription($id: ID, $after: String) { messageAdded(conversationId: $id, after: $after) {
  id seq conversationId clientMessageId } }`;

interface User {
  token: string;
  id: string;
  phone: string;
}
interface Sent {
  id: string;
  seq: number;
  conversationId: string;
  clientMessageId: string | null;
}
interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}
/** One HTTP round trip: the status and body, or the network error when there was no answer. */
type Outcome<T> =
  | { status: number; body: GraphQLResponse<T> | null; error?: undefined }
  | { status?: undefined; body?: undefined; error: string };

const JWT_SECRET = 'faults-e2e-secret-faults-e2e-secret-faults';
const METRICS_TOKEN = 'faults-e2e-metrics-token';
const cursorOf = (seq: number) => Buffer.from(`m1:${seq}`).toString('base64url');
const range = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
const wsUrlOf = (server: ServerProcess) => `ws://127.0.0.1:${server.port}/graphql`;
const readyzOf = (server: ServerProcess) => `http://127.0.0.1:${server.port}/readyz`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const fmt = (ms: number) => `${Math.round(ms)} ms`;

const postgresUrl = inject('postgresUrl');
const redisUrl = inject('redisUrl');
const services = Boolean(postgresUrl) && Boolean(redisUrl);

// ---------------------------------------------------------------------------------------------
// Bookkeeping: everything started here is stopped in afterAll.
// ---------------------------------------------------------------------------------------------

const dirs: string[] = [];
const servers: ServerProcess[] = [];
const clients: Client[] = [];
const ownServices: Service[] = [];
const sqls: postgres.Sql[] = [];

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.dispose()));
  await Promise.allSettled(servers.map((s) => s.stop('SIGKILL')));
  await Promise.allSettled(sqls.map((s) => s.end({ timeout: 5 })));
  await Promise.allSettled(ownServices.map((s) => s.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-faults-e2e-'));
  dirs.push(dir);
  return dir;
}

function client(server: ServerProcess, token: string): Client {
  const c = connect(wsUrlOf(server), token);
  clients.push(c);
  return c;
}

function sqlFor(url: string): postgres.Sql {
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  sqls.push(sql);
  return sql;
}

/** Starts `count` production instances on one database and one Redis (own key prefix). */
async function startInstances(
  count: number,
  databaseUrl: string,
  redis: string,
  extra: Record<string, string> = {},
): Promise<ServerProcess[]> {
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis,
    REDIS_KEY_PREFIX: `faults-${randomUUID().slice(0, 8)}:`,
    NODE_ENV: 'production',
    JWT_SECRET,
    DATA_DIR: tempDir(),
    LOG_LEVEL: 'warn',
    ...extra,
  };
  const started = await Promise.all(range(1, count).map(() => startServerProcess(env)));
  servers.push(...started);
  return started;
}

/** POSTs a GraphQL operation; never throws (a missing answer is reported as `error`). */
async function post<T>(
  server: ServerProcess,
  query: string,
  variables: Record<string, unknown>,
  token?: string,
  timeoutMs = 20_000,
): Promise<Outcome<T>> {
  try {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let body: GraphQLResponse<T> | null = null;
    try {
      body = JSON.parse(text) as GraphQLResponse<T>;
    } catch {
      // not JSON: judged by the status
    }
    return { status: res.status, body };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return {
      error: `${(err as Error).name}: ${(err as Error).message}${cause ? ` (${cause})` : ''}`,
    };
  }
}

/** Runs an operation and returns its data, failing loudly on any error. */
async function ok<T>(
  server: ServerProcess,
  query: string,
  variables: Record<string, unknown>,
  token?: string,
): Promise<T> {
  const res = await post<T>(server, query, variables, token);
  if (res.error || res.status !== 200 || res.body?.errors?.length || !res.body?.data) {
    throw new Error(`operation failed: ${JSON.stringify(res)}\n${query}`);
  }
  return res.body.data;
}

async function send(
  server: ServerProcess,
  from: User,
  conversationId: string,
  body: string,
  clientMessageId: string = randomUUID(),
): Promise<Sent> {
  return (
    await ok<{ sendMessage: Sent }>(
      server,
      SEND,
      { input: { conversationId, body, clientMessageId } },
      from.token,
    )
  ).sendMessage;
}

/** The acknowledged message of a sendMessage outcome, or null when it is not a success. */
function acknowledged(res: Outcome<{ sendMessage: Sent }>): Sent | null {
  if (res.error || res.status !== 200 || res.body?.errors?.length) return null;
  const sent = res.body?.data?.sendMessage;
  return sent && Number.isInteger(sent.seq) ? sent : null;
}

/** How a failed operation answered: `HTTP 5xx`, `<status> <code>`, or what is not allowed. */
function failureShape(res: Outcome<unknown>): string {
  if (res.status === undefined) return `network: ${res.error}`;
  if (res.status >= 500) return `HTTP ${res.status}`;
  const code = res.body?.errors?.[0]?.extensions?.['code'];
  return typeof code === 'string' ? `${res.status} ${code}` : `unexpected: ${JSON.stringify(res)}`;
}

/** Every message of a conversation, paged forward with `messages`. */
async function allMessages(
  server: ServerProcess,
  user: User,
  conversationId: string,
): Promise<{ id: string; seq: number; clientMessageId: string | null }[]> {
  type Page = {
    messages: {
      edges: {
        cursor: string;
        node: { id: string; seq: number; clientMessageId: string | null };
      }[];
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
  };
  const all: { id: string; seq: number; clientMessageId: string | null }[] = [];
  let after: string | null = null;
  for (;;) {
    const page: Page = await ok<Page>(server, MESSAGES, { id: conversationId, after }, user.token);
    all.push(...page.messages.edges.map((e) => e.node));
    if (!page.messages.pageInfo.hasNextPage) return all;
    after = page.messages.pageInfo.endCursor;
  }
}

/** The status of /readyz, or 0 when it does not answer within `timeoutMs`. */
async function readyzStatus(server: ServerProcess, timeoutMs = 3_000): Promise<number> {
  try {
    const res = await fetch(readyzOf(server), { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** Polls a condition (every 50 ms) until it holds; rejects after `timeoutMs`. */
async function eventually(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Polls a condition (every 50 ms); resolves with the time it held, or NaN after `timeoutMs`. */
async function reached(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) return NaN;
    await sleep(50);
  }
  return performance.now();
}

/** Waits until `until` (a performance.now() time): the timed steps of a scenario. */
const waitUntil = (until: number) => sleep(Math.max(0, until - performance.now()));

/** Resolves true when a new TCP connection to the port is refused (nothing listens). */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (value: boolean) => {
      socket.destroy();
      resolve(value);
    };
    socket.once('connect', () => done(false));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED'));
    socket.setTimeout(2_000, () => done(false));
  });
}

// ---------------------------------------------------------------------------------------------

describe.skipIf(!services)('Redis stopped for ~10 s while messages are sent', () => {
  let redis: Service;
  let a: ServerProcess;
  let b: ServerProcess;
  let ann: User;
  let bob: User;
  let sql: postgres.Sql;

  beforeAll(async () => {
    redis = (await startRedis())!;
    ownServices.push(redis);
    const databaseUrl = await createDatabase(postgresUrl);
    sql = sqlFor(databaseUrl);
    [a, b] = (await startInstances(2, databaseUrl, redis.url, {
      OUTBOX_GRACE_MS: '500',
      OUTBOX_DRAIN_INTERVAL_MS: '250',
    })) as [ServerProcess, ServerProcess];
    ann = await register(a, 'ann');
    bob = await register(b, 'bob');
  });

  it('every send commits and is acknowledged; the subscriber on B gets each message exactly once, in order', async () => {
    const conversationId = await group(a, ann, [bob]);
    const first = await send(a, ann, conversationId, 'before 1');
    const second = await send(a, ann, conversationId, 'before 2');
    const received = subscribe<Sent & { at: number }>(
      client(b, bob.token),
      ADDED,
      { id: conversationId, after: cursorOf(first.seq) },
      (d) => ({ ...(d['messageAdded'] as Sent), at: performance.now() }),
    );
    // The replayed message proves the subscription is established (subscribed, then read).
    await received.until((items) => items.some((m) => m.id === second.id));

    const port = Number(new URL(redis.url).port);
    const INTERVAL_MS = 150;
    const SENDING_MS = 14_000;
    const t0 = performance.now();
    const attempts: {
      clientMessageId: string;
      at: number;
      done?: number;
      res?: Outcome<{ sendMessage: Sent }>;
    }[] = [];

    // The sender: one message every 150 ms for 14 s, each with its own clientMessageId, to A.
    const sending = (async () => {
      const pending: Promise<void>[] = [];
      for (let i = 0; performance.now() - t0 < SENDING_MS; i++) {
        await waitUntil(t0 + i * INTERVAL_MS);
        const attempt = {
          clientMessageId: randomUUID(),
          at: performance.now(),
        } as (typeof attempts)[number];
        attempts.push(attempt);
        pending.push(
          post<{ sendMessage: Sent }>(
            a,
            SEND,
            {
              input: { conversationId, body: `msg ${i}`, clientMessageId: attempt.clientMessageId },
            },
            ann.token,
          ).then((res) => {
            attempt.res = res;
            attempt.done = performance.now();
          }),
        );
      }
      await Promise.all(pending);
    })();

    let downAt = 0;
    let restartAt = 0;
    let restartedAt = 0;
    try {
      // ~2 s in: Redis goes away.
      await waitUntil(t0 + 2_000);
      await redis.stop();
      downAt = performance.now();
      // Both instances notice (so the sends that follow really run without a doorbell).
      await eventually(
        'both instances report 503 on /readyz',
        async () => (await readyzStatus(a)) === 503 && (await readyzStatus(b)) === 503,
        8_000,
      );
    } finally {
      // ~10 s later: back on the same port, whatever happened.
      await waitUntil(downAt ? downAt + 10_000 : performance.now());
      restartAt = performance.now();
      redis = (await startRedis(port))!;
      ownServices.push(redis);
      restartedAt = performance.now();
    }
    // Nobody restarts the instances: they reconnect by themselves.
    await eventually(
      'both instances report 200 on /readyz after Redis is back',
      async () => (await readyzStatus(a)) === 200 && (await readyzStatus(b)) === 200,
      15_000,
    );
    const readyAgainAt = performance.now();
    await sending;

    // Every send committed and was acknowledged, with no error.
    const failures = attempts.filter((x) => !acknowledged(x.res!));
    expect(failures.map((x) => x.res)).toEqual([]);
    const acked = attempts.map((x) => acknowledged(x.res!)!);
    const sentDuringOutage = attempts.filter((x) => x.at >= downAt && x.at < restartAt).length;
    expect(sentDuringOutage).toBeGreaterThan(40);
    expect(acked.map((m) => m.clientMessageId)).toEqual(attempts.map((x) => x.clientMessageId));
    const ackedSeqs = acked.map((m) => m.seq).sort((x, y) => x - y);
    expect(ackedSeqs).toEqual(range(second.seq + 1, second.seq + acked.length));
    const lastAcked = ackedSeqs.at(-1)!;

    // The subscriber gets everything within ~15 s of the recovery.
    await received.until((items) => items.some((m) => m.seq === lastAcked), 15_000);
    const caughtUpAt = performance.now();
    // What was acknowledged while Redis was away: when did the last of it arrive?
    const outageSeqs = new Set(
      attempts.filter((x) => x.done! < restartedAt).map((x) => acknowledged(x.res!)!.seq),
    );
    const outageDeliveredAt = Math.max(
      ...received.items.filter((m) => outageSeqs.has(m.seq)).map((m) => m.at),
    );

    // Late duplicates (a drainer publishing what a catch-up already delivered) would come now:
    // judge once the outbox is empty and a marker sent afterwards has arrived.
    await eventually(
      'outbox empty',
      async () => (await sql`select count(*)::int as n from outbox`)[0]!['n'] === 0,
      15_000,
    );
    const marker = await send(a, ann, conversationId, 'marker');
    await received.until((items) => items.some((m) => m.id === marker.id), 10_000);

    const seqs = received.items.map((m) => m.seq);
    const duplicates = seqs.length - new Set(seqs).size;
    const lost = ackedSeqs.filter((s) => !seqs.includes(s)).length;
    console.log(
      `[faults e2e] Redis down ${fmt(restartAt - downAt)}: sent ${attempts.length} ` +
        `(${sentDuringOutage} during the outage), acknowledged ${acked.length}, ` +
        `delivered ${new Set(seqs.filter((s) => s > second.seq && s <= lastAcked)).size}, ` +
        `duplicates ${duplicates}, lost ${lost}; recovery time (Redis answering again -> every ` +
        `message acknowledged during the outage delivered) ${fmt(outageDeliveredAt - restartedAt)}, ` +
        `/readyz 200 on both after ${fmt(readyAgainAt - restartedAt)}, the last message sent ` +
        `delivered after ${fmt(caughtUpAt - restartedAt)}; ` +
        `slowest send ${fmt(Math.max(...attempts.map((x) => x.done! - x.at)))}`,
    );
    expect(duplicates).toBe(0);
    expect(lost).toBe(0);
    expect(seqs).toEqual(range(second.seq, marker.seq));
    expect(received.items.map((m) => m.id)).toEqual([
      second.id,
      ...[...acked].sort((x, y) => x.seq - y.seq).map((m) => m.id),
      marker.id,
    ]);
    expect(received.errors).toEqual([]);
    received.stop();
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------

describe.skipIf(!services)('PostgreSQL restarted under load', () => {
  let pg: PostgresService;
  let a: ServerProcess;
  let b: ServerProcess;
  let ann: User;
  let bob: User;

  beforeAll(async () => {
    pg = (await startPostgres())!;
    ownServices.push(pg);
    const databaseUrl = await createDatabase(pg.url);
    [a, b] = (await startInstances(2, databaseUrl, redisUrl)) as [ServerProcess, ServerProcess];
    ann = await register(a, 'ann');
    bob = await register(b, 'bob');
  });

  it('sends fail while it is down, the pools recover by themselves, and retries leave exactly one message each', async () => {
    const conversationId = await group(a, ann, [bob]);
    const pids = [a.child.pid, b.child.pid];
    // How long an attempt may go unanswered: twice the statement timeout (DB_STATEMENT_TIMEOUT_MS).
    const ANSWER_MS = 10_000;
    const instances = [a, b];

    type Attempt = {
      clientMessageId: string;
      server: number;
      at: number;
      done: number;
      res: Outcome<{ sendMessage: Sent }>;
    };
    const attempts: Attempt[] = [];
    const acked = new Map<string, Sent[]>();
    const gaveUp: string[] = [];
    let stopSending = false;
    let successes = 0;

    // A client sends continuously; each failed send is retried with the SAME clientMessageId
    // (bounded backoff, to the other instance every other time) until it succeeds.
    const sender = async (lane: number) => {
      for (let n = 0; !stopSending; n++) {
        const clientMessageId = randomUUID();
        const deadline = performance.now() + 20_000;
        for (let k = 0; ; k++) {
          const server = (lane + n + k) % 2;
          const at = performance.now();
          const res = await post<{ sendMessage: Sent }>(
            instances[server]!,
            SEND,
            { input: { conversationId, body: `lane ${lane} #${n}`, clientMessageId } },
            ann.token,
            ANSWER_MS,
          );
          attempts.push({ clientMessageId, server, at, done: performance.now(), res });
          const sent = acknowledged(res);
          if (sent) {
            acked.set(clientMessageId, [...(acked.get(clientMessageId) ?? []), sent]);
            successes++;
            break;
          }
          if (performance.now() > deadline) {
            gaveUp.push(clientMessageId);
            break;
          }
          await sleep(Math.min(50 * 2 ** k, 500));
        }
        await sleep(60);
      }
    };
    const lanes = [0, 1, 2].map(sender);

    let stopBegan = 0;
    let downAt = 0;
    let startBegan: number;
    let upAt = 0;
    let readyAgainAt: number;
    let firstSuccessAfterUp: number;
    // /readyz of both instances, probed every 200 ms while PostgreSQL is down; a probe must be
    // answered within PROBE_MS (0: it was not).
    const PROBE_MS = 2_000;
    const probes: { at: number; statuses: number[] }[] = [];
    try {
      await eventually('30 messages sent before the restart', () => successes >= 30, 15_000);
      stopBegan = performance.now();
      await pg.stopKeepingData('fast');
      downAt = performance.now();
      for (let at = downAt; at + PROBE_MS < downAt + 5_000; at = performance.now()) {
        const statuses = await Promise.all([a, b].map((s) => readyzStatus(s, PROBE_MS)));
        probes.push({ at, statuses });
        await sleep(200);
      }
    } finally {
      // Down for ~5 s, then the same data directory on the same port again.
      await waitUntil(downAt ? downAt + 5_000 : performance.now());
      startBegan = performance.now();
      await pg.start();
      upAt = performance.now();
    }
    try {
      // Nobody restarts the instances: their pools reconnect by themselves.
      readyAgainAt = await reached(
        async () => (await readyzStatus(a)) === 200 && (await readyzStatus(b)) === 200,
        25_000,
      );
      const before = successes;
      await reached(() => successes >= before + 30, 15_000);
      firstSuccessAfterUp = Math.min(
        ...attempts.filter((x) => x.at >= upAt && acknowledged(x.res)).map((x) => x.done),
      );
    } finally {
      stopSending = true;
      await Promise.all(lanes);
    }

    // Judged below, once the figures are printed.
    const failed = attempts.filter((x) => !acknowledged(x.res));
    const shapes = failed.map((x) => failureShape(x.res));
    const failedWhileDown = failed.filter((x) => x.done >= stopBegan && x.at <= upAt).length;
    const failedAfterReady = failed.filter((x) => x.at >= (readyAgainAt || Infinity));
    const slowest = attempts.reduce((m, x) => (x.done - x.at > m.done - m.at ? x : m));
    const ids = [...new Set(attempts.map((x) => x.clientMessageId))];
    const stored = await allMessages(b, bob, conversationId);
    const storedIds = stored.map((m) => m.clientMessageId!);
    const duplicates = storedIds.length - new Set(storedIds).size;
    const lost = ids.filter((id) => !storedIds.includes(id)).length;
    const perShape = new Map<string, number>();
    for (const shape of shapes) perShape.set(shape, (perShape.get(shape) ?? 0) + 1);
    const since = (t: number) => fmt(t - stopBegan);
    const readyzWhileDown = new Map<number, number>();
    for (const x of probes.flatMap((p) => p.statuses)) {
      readyzWhileDown.set(x, (readyzWhileDown.get(x) ?? 0) + 1);
    }
    console.log(
      `[faults e2e] PostgreSQL down ${fmt(startBegan - downAt)} (fast stop took ${fmt(downAt - stopBegan)}): ` +
        `messages ${ids.length}, attempts ${attempts.length}, failed attempts ${failed.length} ` +
        `(${failedWhileDown} while down; ${[...perShape].map(([k, v]) => `${k} x${v}`).join(', ')}), ` +
        `final messages ${stored.length}, duplicates ${duplicates}, lost ${lost}; /readyz while down: ` +
        `${[...readyzWhileDown].map(([k, v]) => `${k === 0 ? `no answer within ${PROBE_MS} ms` : k} x${v}`).join(', ')}, ` +
        `200 on both ${Number.isNaN(readyAgainAt) ? 'not within 25 s' : fmt(readyAgainAt - upAt)} after PostgreSQL accepted again, ` +
        `first acknowledged send ${fmt(firstSuccessAfterUp - upAt)} after it; slowest attempt ` +
        `${fmt(slowest.done - slowest.at)} (${since(slowest.at)}..${since(slowest.done)} from the stop, ` +
        `PostgreSQL back at ${since(upAt)})`,
    );

    // The same processes served throughout.
    for (const [name, s] of [
      ['A', a],
      ['B', b],
    ] as const) {
      expect(
        s.child.exitCode,
        `instance ${name} exited; its log ends:\n${s.output().slice(-4_000)}`,
      ).toBeNull();
    }
    expect([a.child.pid, b.child.pid]).toEqual(pids);
    // While it is down, /readyz answers 503 on both, promptly.
    expect(probes.length).toBeGreaterThan(0);
    expect(
      probes
        .filter((p) => p.statuses.some((x) => x !== 503))
        .map(
          (p) =>
            `probe at ${since(p.at)}: ` +
            p.statuses
              .map((x, i) => `${'AB'[i]} ${x || `no answer within ${PROBE_MS} ms`}`)
              .join(', '),
        ),
    ).toEqual([]);
    expect(gaveUp).toEqual([]);
    // Every attempt was answered (within ANSWER_MS): with success, a GraphQL error that has a
    // code, or HTTP 5xx; never a hang, a dropped connection or an error without a code.
    expect(
      failed
        .filter((x) => /^(network|unexpected)/.test(failureShape(x.res)))
        .map(
          (x) =>
            `${failureShape(x.res)} at ${since(x.at)}..${since(x.done)} on instance ${x.server}`,
        ),
    ).toEqual([]);
    expect(failedWhileDown).toBeGreaterThan(0);
    // The pools come back promptly, and then every send succeeds at once.
    expect(readyAgainAt - upAt, '/readyz 200 on both after PostgreSQL is back (ms)').toBeLessThan(
      5_000,
    );
    expect(failedAfterReady.map((x) => x.res)).toEqual([]);

    // Every clientMessageId was acknowledged, each time with the same message.
    expect(ids.filter((id) => !acked.has(id))).toEqual([]);
    for (const [id, answers] of acked) {
      expect(new Set(answers.map((m) => `${m.id}/${m.seq}/${m.clientMessageId}`)), id).toEqual(
        new Set([`${answers[0]!.id}/${answers[0]!.seq}/${id}`]),
      );
    }

    // The conversation holds exactly one message per clientMessageId, seqs 1..N without gaps.
    expect(duplicates).toBe(0);
    expect(lost).toBe(0);
    expect(stored.length).toBe(ids.length);
    expect(stored.map((m) => m.seq)).toEqual(range(1, ids.length));
    for (const m of stored) expect(acked.get(m.clientMessageId!)![0]!.id).toBe(m.id);
  }, 90_000);
});

// ---------------------------------------------------------------------------------------------

describe.skipIf(!services)('SIGTERM', () => {
  const BURST = 50;
  let server: ServerProcess;
  let ann: User;
  let bob: User;
  let sql: postgres.Sql;

  beforeAll(async () => {
    const databaseUrl = await createDatabase(postgresUrl);
    sql = sqlFor(databaseUrl);
    [server] = (await startInstances(1, databaseUrl, redisUrl, {
      // The test reads how many sends the server holds from /metrics.
      METRICS_TOKEN,
      DB_STATEMENT_TIMEOUT_MS: '20000',
    })) as [ServerProcess];
    ann = await register(server, 'ann');
    bob = await register(server, 'bob');
  });

  it('stops accepting, finishes in-flight requests, closes WebSockets with 1001 and exits 0', async () => {
    const conversationId = await group(server, ann, [bob]);
    const first = await send(server, ann, conversationId, 'before');
    const subscriptions: Received<Sent>[] = [ann, bob].map((user) =>
      subscribe<Sent>(client(server, user.token), ADDED, {
        id: conversationId,
        after: cursorOf(0),
      }),
    );
    for (const s of subscriptions) await s.until((items) => items.some((m) => m.id === first.id));

    // Slow requests: the test holds the row locks of BURST conversations, one send into each,
    // so every send waits, in PostgreSQL for its lock or in the server for a batch behind those
    // (db/send-batches.ts); /metrics counts them.
    const targets = await Promise.all(range(1, BURST).map(() => group(server, ann, [bob])));
    const holder = await sql.reserve();
    let holding = false;
    try {
      await holder`begin`;
      holding = true;
      await holder`select id from conversations where id = any(${targets}::uuid[]) for update`;

      const ids = range(1, BURST).map(() => randomUUID());
      const burst = ids.map((clientMessageId, i) =>
        post<{ sendMessage: Sent }>(
          server,
          SEND,
          { input: { conversationId: targets[i], body: `in flight ${i}`, clientMessageId } },
          ann.token,
          30_000,
        ),
      );
      let settled = 0;
      for (const p of burst) void p.then(() => settled++);
      // All of them in flight: the server holds each, and its batches wait for the locks.
      const waiting = async () =>
        (
          await sql`select count(*)::int as n from pg_stat_activity
                     where datname = current_database() and wait_event_type = 'Lock'`
        )[0]!['n'] as number;
      const held = async () => {
        const res = await fetch(new URL('/metrics', server.url), {
          headers: { authorization: `Bearer ${METRICS_TOKEN}` },
        });
        return Number(/^parley_sends_pending (\d+)$/m.exec(await res.text())?.[1]);
      };
      // Every send held, and its batches' statements (as many as run at once) at the locks: the
      // same count twice in a row.
      let waitingBeforeSigterm = -1;
      await eventually(
        `${BURST} sends held, waiting for the lock`,
        async () => {
          const [sends, statements] = [await held(), await waiting()];
          const settledNow =
            sends === BURST && statements > 0 && statements === waitingBeforeSigterm;
          waitingBeforeSigterm = statements;
          return settledNow;
        },
        15_000,
      );

      const exitedAt = new Promise<number>((resolve) =>
        server.child.once('exit', () => resolve(performance.now())),
      );
      const sigtermAt = performance.now();
      const exitCode = server.stop('SIGTERM');

      // It stops accepting new connections while the in-flight requests are still running.
      await eventually('new connections refused', () => refused(server.port), 5_000);
      const refusedAt = performance.now();
      expect(settled).toBe(0);
      expect(await waiting()).toBe(waitingBeforeSigterm);
      const late = subscribe<Sent>(client(server, bob.token), ADDED, {
        id: conversationId,
      });
      await late.ended(5_000);
      expect(late.items).toEqual([]);

      // Let them through: every in-flight request completes successfully.
      const releasedAt = performance.now();
      await holder`commit`;
      holding = false;
      const results = await Promise.all(burst);
      const answeredAt = performance.now();
      const sent = results.map((res) => acknowledged(res));
      expect(results.filter((_, i) => !sent[i])).toEqual([]);
      expect(sent.map((m) => m!.clientMessageId)).toEqual(ids);
      expect(sent.map((m) => m!.seq)).toEqual(ids.map(() => 1));

      // The WebSocket clients were told "going away".
      for (const s of subscriptions) {
        await s.ended(5_000);
        expect(s.errors.map((e) => e.extensions?.['closeCode'])).toEqual([1001]);
      }

      // The process exits by itself, with 0, in bounded time.
      const code = await exitCode;
      const tookMs = (await exitedAt) - sigtermAt;
      console.log(
        `[faults e2e] SIGTERM with ${BURST} sends in flight and 2 WebSocket clients: new connections ` +
          `refused after ${fmt(refusedAt - sigtermAt)}, all ${BURST} answered ${fmt(answeredAt - releasedAt)} ` +
          `after the lock was released, exit code ${code} after ${fmt(tookMs)} ` +
          `(${fmt((await exitedAt) - answeredAt)} after the last answer)`,
      );
      expect(code).toBe(0);
      expect(tookMs).toBeLessThan(10_000);

      // Their messages are stored.
      const rows = await sql`select conversation_id, seq, client_message_id from messages
                              where conversation_id = any(${targets}::uuid[])`;
      const stored = new Map(rows.map((r) => [r['conversation_id'] as string, r]));
      expect(
        targets.map((id) => [stored.get(id)?.['seq'], stored.get(id)?.['client_message_id']]),
      ).toEqual(ids.map((clientMessageId) => [1, clientMessageId]));
    } finally {
      if (holding) await holder`rollback`.catch(() => undefined);
      holder.release();
    }
  }, 60_000);
});
