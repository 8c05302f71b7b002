// Measures what a frozen Redis (SIGSTOP, connections open and silent) does to the API: two
// instances on one PostgreSQL and one Redis, subscribers on both, one message sent every
// 100 ms (alternating instances) during a freeze, /readyz asked every second.
//   node --import tsx bench/frozen-redis.ts [freezeSeconds=10]
// Prints send p50/p99/max during the freeze, /readyz answer times, and how long after SIGCONT
// every subscriber had every acknowledged message. Not part of npm test.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  createGroupAt,
  gqlAt,
  registerAt,
  startServerProcess,
  type ServerProcess,
} from '../test/support/process.js';
import { createDatabase, startPostgres, startRedis } from '../test/support/services.js';
import { connect, subscribe } from '../test/support/ws.js';

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }`;
const ADDED = `subscription($id: ID) { messageAdded(conversationId: $id) { id seq } }`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const freezeMs = Number(process.argv[2] ?? 10) * 1_000;

const pg = (await startPostgres())!;
const redis = (await startRedis())!;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-bench-frozen-'));
const servers: ServerProcess[] = [];
try {
  const env = {
    DATABASE_URL: await createDatabase(pg.url),
    REDIS_URL: redis.url,
    NODE_ENV: 'production',
    JWT_SECRET: 'frozen-redis-bench-secret-frozen-redis-bench-secret',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'error',
  };
  const [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  servers.push(a!, b!);
  const [ann, bob] = await Promise.all([registerAt(a!, 'ann'), registerAt(b!, 'bob')]);
  const conversationId = await createGroupAt(a!, ann, [bob]);
  const streams = [a!, b!].map((s) =>
    subscribe<{ id: string; seq: number }>(
      connect(s.url.replace(/^http/, 'ws'), bob.token),
      ADDED,
      { id: conversationId },
    ),
  );
  const send = (server: ServerProcess, body: string) =>
    gqlAt<{ sendMessage: { id: string; seq: number } }>(
      server.url,
      SEND,
      { input: { conversationId, body, clientMessageId: randomUUID() } },
      ann.token,
    );
  while (!streams.every((s) => s.items.length > 0)) {
    await send(a!, 'warm-up');
    await sleep(200);
  }

  const sends: { ms?: number; seq?: number; error?: string }[] = [];
  const readyz: string[] = [];
  process.kill(redis.pid, 'SIGSTOP');
  const frozenAt = performance.now();
  const pending: Promise<void>[] = [];
  const probes: Promise<void>[] = [];
  for (let n = 0; performance.now() - frozenAt < freezeMs; n++) {
    const at = performance.now();
    const record: (typeof sends)[number] = {};
    sends.push(record);
    pending.push(
      send(n % 2 === 0 ? a! : b!, `frozen ${n}`).then(
        (res) => {
          record.ms = performance.now() - at;
          if (res.data?.sendMessage) record.seq = res.data.sendMessage.seq;
          else record.error = JSON.stringify(res.errors);
        },
        (err: unknown) => {
          record.error = String(err);
        },
      ),
    );
    if (n % 10 === 5) {
      probes.push(
        fetch(`http://127.0.0.1:${a!.port}/readyz`, { signal: AbortSignal.timeout(15_000) }).then(
          (res) => {
            readyz.push(`${res.status} in ${Math.round(performance.now() - at)} ms`);
          },
          () => {
            readyz.push(`no answer in ${Math.round(performance.now() - at)} ms`);
          },
        ),
      );
    }
    await sleep(Math.max(0, frozenAt + (n + 1) * 100 - performance.now()));
  }
  const answeredWhileFrozen = sends.filter((x) => x.ms !== undefined).length;
  process.kill(redis.pid, 'SIGCONT');
  const resumedAt = performance.now();
  await Promise.all([...pending, ...probes]);
  const last = Math.max(...sends.map((x) => x.seq ?? 0));
  await Promise.all(
    streams.map((s) => s.until((items) => items.some((m) => m.seq === last), 60_000)),
  );
  const caughtUp = performance.now() - resumedAt;
  const ms = sends.map((x) => x.ms!).sort((x, y) => x - y);
  const q = (p: number) => Math.round(ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!);
  const seqs = streams.map((s) => s.items.map((m) => m.seq));
  console.log(
    JSON.stringify(
      {
        freezeMs: Math.round(resumedAt - frozenAt),
        sends: sends.length,
        answeredWhileFrozen,
        failed: sends.filter((x) => x.error).length,
        sendMs: { p50: q(0.5), p99: q(0.99), max: Math.round(ms.at(-1)!) },
        readyzWhileFrozen: readyz,
        caughtUpAfterSigcontMs: Math.round(caughtUp),
        duplicates: seqs.map((s) => s.length - new Set(s).size),
      },
      null,
      2,
    ),
  );
  for (const s of streams) s.stop();
} finally {
  await Promise.allSettled(servers.map((s) => s.stop('SIGKILL')));
  await redis.stop();
  await pg.stop();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
}
