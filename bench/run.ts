// npm run bench: starts real PostgreSQL (default durability) and Redis, two Parley instances in
// production mode, seeds data, runs each scenario with load from separate processes, measures the
// raw floor under each in the same run, prints a table and writes bench/results/<date>.json.
import { createECDH, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import webPush from 'web-push';
import { createTokenService, hashPassword } from '../src/domain/auth.js';
import { gqlAt, startServerProcess, type ServerProcess } from '../test/support/process.js';
import { createDatabase, startPostgres, startRedis } from '../test/support/services.js';
import {
  ask,
  benchDir,
  child,
  dataDir,
  loadOverServers,
  log,
  runJob,
  stopChildren,
} from './harness.js';
import { BIG_ROOM_LOAD, BIG_ROOM_MEMBERS, bigRoom, printBigRoom } from './big-room.js';
import { dbStats, perOperation } from './db-stats.js';
import { createWithoutPartitions } from './partitions.js';
import { startRedisCluster } from '../test/support/redis-cluster.js';
import { HOT_ROOM_CONNECTIONS_PER_INSTANCE, HOT_ROOM_QUIET_RATE, hotRoom } from './hot-room.js';
import { seedHistory } from './history-text.js';
import { lagUnderLoad, printLag } from './lag.js';
import {
  printSearch,
  SEARCH_CONVERSATIONS_PER_USER,
  SEARCH_USERS,
  searchScenario,
} from './search.js';
import { busySince, cpuOf, machineTimes, rssOf, systemCpuOf, treeCpuOf } from './proc.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONVERSATIONS = 1_000;
// BENCH_HISTORY_PER_CONVERSATION: a smaller history for a quick run (1,000: 1 M messages).
const HISTORY_PER_CONVERSATION = Number(process.env.BENCH_HISTORY_PER_CONVERSATION ?? 1_000);
const SUBSCRIBERS = 2_000;
const HOT_ROOM_MEMBERS = 1_000;
/** The load that is not saturated: this share of the rate measured at saturation. */
const UNSATURATED_SHARE = 0.4;
// BENCH_ONLY=send,push,history,search,lag,hotroom,fanout,bigroom,ceiling runs a subset; BENCH_PROFILE=1 writes each instance's CPU
// profile (node --cpu-prof) to bench/results/profiles/ for `npm run bench:profile`;
// BENCH_BIGROOM_SUBSCRIBERS and BENCH_BIGROOM_RATE (messages/s) change the big room's load.
const ONLY = new Set(
  (process.env.BENCH_ONLY ?? 'send,push,history,search,lag,hotroom,fanout,bigroom,ceiling').split(
    ',',
  ),
);
const PROFILE = process.env.BENCH_PROFILE === '1';
// BENCH_PARTITIONS=0: the bench database without drizzle/0016's partitioning (bench/partitions.ts),
// to compare send and history with and without it.
const PARTITIONS = process.env.BENCH_PARTITIONS !== '0';
// BENCH_REDIS=cluster: the instances share a Redis Cluster (3 masters, 3 replicas, sharded
// pub/sub: REDIS_CLUSTER_NODES) instead of one Redis server.
const REDIS_CLUSTER = process.env.BENCH_REDIS === 'cluster';
const JWT_SECRET = randomBytes(32).toString('hex');

/** The stores the bench started: their processes (for their CPU) and how to stop them. */
const services: { pids(): number[]; stop(): Promise<void> }[] = [];
const servers: ServerProcess[] = [];

interface Seeded {
  pairs: { senderId: string; token: string; conversationId: string }[];
  group: { id: string; ownerToken: string; memberTokens: string[] };
  /** One conversation of HOT_ROOM_MEMBERS members, all of whom send into it. */
  hotRoom: { id: string; memberIds: string[]; memberTokens: string[] };
}

async function seed(databaseUrl: string): Promise<Seeded> {
  const sql = postgres(databaseUrl, { max: 4, onnotice: () => {} });
  const tokens = createTokenService(JWT_SECRET, '1d');
  const hash = await hashPassword('bench password');
  const users = Array.from({ length: 2 * CONVERSATIONS + 1 }, (_, i) => ({
    id: randomUUID(),
    phone: `+1999${String(i).padStart(7, '0')}`,
    display_name: `Bench ${i}`,
    password_hash: hash,
  }));
  for (let i = 0; i < users.length; i += 1_000)
    await sql`insert into users ${sql(users.slice(i, i + 1_000))}`;
  const conversations = Array.from({ length: CONVERSATIONS }, (_, i) => ({
    id: randomUUID(),
    kind: 'GROUP',
    title: `Bench ${i}`,
    last_seq: HISTORY_PER_CONVERSATION,
  }));
  await sql`insert into conversations ${sql(conversations)}`;
  const members = conversations.flatMap((c, i) => [
    { conversation_id: c.id, user_id: users[2 * i]!.id },
    { conversation_id: c.id, user_id: users[2 * i + 1]!.id },
  ]);
  for (let i = 0; i < members.length; i += 1_000) {
    await sql`insert into conversation_members ${sql(members.slice(i, i + 1_000))}`;
  }
  log(`seeding ${CONVERSATIONS * HISTORY_PER_CONVERSATION} messages of history`);
  await seedHistory(
    sql,
    conversations.map((c) => c.id),
    HISTORY_PER_CONVERSATION,
  );
  await sql`analyze`;
  // The fan-out group: the last user sends, 2,000 members listen.
  const owner = users.at(-1)!;
  const groupId = randomUUID();
  await sql`insert into conversations ${sql({ id: groupId, kind: 'GROUP', title: 'Fan-out' })}`;
  const listeners = users.slice(0, SUBSCRIBERS);
  await sql`insert into conversation_members ${sql([owner, ...listeners].map((u) => ({ conversation_id: groupId, user_id: u.id })))}`;
  const hotId = randomUUID();
  const hotMembers = users.slice(0, HOT_ROOM_MEMBERS);
  await sql`insert into conversations ${sql({ id: hotId, kind: 'GROUP', title: 'Hot room' })}`;
  await sql`insert into conversation_members ${sql(hotMembers.map((u) => ({ conversation_id: hotId, user_id: u.id })))}`;
  await sql.end();
  return {
    pairs: await Promise.all(
      conversations.map(async (c, i) => {
        const senderId = users[2 * i]!.id;
        return { senderId, token: await tokens.issue(senderId), conversationId: c.id };
      }),
    ),
    group: {
      id: groupId,
      ownerToken: await tokens.issue(owner.id),
      memberTokens: await Promise.all(listeners.map((u) => tokens.issue(u.id))),
    },
    hotRoom: {
      id: hotId,
      memberIds: hotMembers.map((u) => u.id),
      memberTokens: await Promise.all(hotMembers.map((u) => tokens.issue(u.id))),
    },
  };
}

async function fanOut(a: ServerProcess, b: ServerProcess, group: Seeded['group']) {
  const load = child('load-ws.ts');
  await ask(load, null, (r) => r['ready'] === true);
  // Warm both instances up (code loaded and compiled, pools open) before the baseline.
  for (const server of [a, b]) {
    await gqlAt(server.url, '{ me { id } }', {}, group.ownerToken);
  }
  const rssBefore = rssOf(a.child.pid!) + rssOf(b.child.pid!);
  // RSS moves with garbage collection: the peak while subscribers connect and settle is the
  // figure reported (an upper bound; `npm run bench:memory` measures the heap each one keeps).
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, rssOf(a.child.pid!) + rssOf(b.child.pid!));
  }, 50);
  await ask(
    load,
    {
      cmd: 'connect',
      mode: 'parley',
      wsUrls: [a, b].map((s) => s.url.replace('http', 'ws')),
      tokens: group.memberTokens,
      conversationId: group.id,
    },
    (r) => 'connected' in r,
  );
  const SEND = 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { seq } }';
  const sent: Record<string, number> = {};
  const sendOne = async () => {
    const t = Date.now();
    const res = await gqlAt<{ sendMessage: { seq: number } }>(
      a.url,
      SEND,
      { i: { conversationId: group.id, body: `fan-out ${t}` } },
      group.ownerToken,
    );
    const seq = res.data?.sendMessage?.seq;
    if (seq !== undefined) sent[seq] = t;
    return seq;
  };
  // Everyone is live once everyone has received a warm-up message.
  for (let i = 0; i < 60; i++) {
    await sendOne();
    const r = await ask<{ lost: number }>(load, { cmd: 'report', sent }, (x) => 'lost' in x);
    if (r.lost === 0) break;
    await new Promise((res) => setTimeout(res, 500));
  }
  await new Promise((r) => setTimeout(r, 1_000)); // idle connections settle
  clearInterval(sampler);
  for (const k of Object.keys(sent)) delete sent[k];
  await ask(load, { cmd: 'reset' }, (r) => r['reset'] === true);

  const report = () =>
    ask<{
      deliveries: number;
      lost: number;
      duplicated: number;
      p50: number;
      p99: number;
      lastAt: number;
    }>(load, { cmd: 'report', sent }, (x) => 'lost' in x);
  const count = () =>
    ask<{ deliveries: number }>(
      load,
      { cmd: 'count' },
      (x) => 'deliveries' in x && !('lost' in x),
    ).then((r) => r.deliveries);
  // perSecond: a fixed rate; null: as fast as it holds (at most `window` messages not yet
  // delivered to everyone, so the measure is what the servers sustain, not a backlog).
  const phase = async (perSecond: number | null, seconds: number, window = 4) => {
    const serversCpu = () => cpuOf(a.child.pid!) + cpuOf(b.child.pid!);
    const cpu0 = serversCpu();
    const loadCpu0 = cpuOf(load.pid!);
    const serversSystem = () => systemCpuOf(a.child.pid!) + systemCpuOf(b.child.pid!);
    const system0 = serversSystem();
    const machine0 = machineTimes();
    const storesCpu = () =>
      services.reduce(
        (sum, service) => sum + service.pids().reduce((s, pid) => s + treeCpuOf(pid), 0),
        0,
      );
    const stores0 = storesCpu();
    const end = Date.now() + seconds * 1000;
    const t0 = Date.now();
    let n = 0;
    const sending = new Set<Promise<unknown>>();
    while (Date.now() < end) {
      if (perSecond === null) {
        // Polls the count only: a full report walks every arrival and sorts the latencies,
        // which, every 5 ms, would make the subscribers' own process the bottleneck.
        while ((await count()) < (n - window) * group.memberTokens.length) {
          await new Promise((r) => setTimeout(r, 5));
        }
        // Sends overlap (up to `window` messages sent or undelivered): one at a time, the
        // sender's round trip, not the servers, would set the pace.
        const pending: Promise<unknown> = sendOne().finally(() => sending.delete(pending));
        sending.add(pending);
        n++;
        continue;
      }
      await sendOne();
      n++;
      await new Promise((r) =>
        setTimeout(r, Math.max(0, t0 + (n * 1000) / perSecond - Date.now())),
      );
    }
    await Promise.all(sending);
    // Wait (bounded) for the last deliveries.
    const expected = Object.keys(sent).length * group.memberTokens.length;
    let last = await report();
    const deadline = Date.now() + 30_000;
    while (last.deliveries < expected && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      last = await report();
    }
    const elapsed = (last.lastAt - t0) / 1000;
    return {
      messages: Object.keys(sent).length,
      ...last,
      deliveriesPerSecond: last.deliveries / elapsed,
      // Both instances' CPU (the sends' HTTP requests included) over what they delivered.
      serverCpuUsPerDelivery: (serversCpu() - cpu0) / last.deliveries,
      serverSystemCpuUsPerDelivery: (serversSystem() - system0) / last.deliveries,
      // The subscribers' process, and the machine (other work on it included), over the phase.
      subscribersCpuUsPerDelivery: (cpuOf(load.pid!) - loadCpu0) / last.deliveries,
      machineBusy: busySince(machine0),
      storesCpuUsPerDelivery: (storesCpu() - stores0) / last.deliveries,
    };
  };
  const steady = await phase(10, SECONDS);
  for (const k of Object.keys(sent)) delete sent[k];
  await ask(load, { cmd: 'reset' }, (r) => r['reset'] === true);
  const flat = await phase(null, SECONDS);
  load.send({ cmd: 'exit' });
  return {
    steady,
    flat,
    rssPerSubscriberBytes: (rssPeak - rssBefore) / group.memberTokens.length,
  };
}

const PUSH_DELAY_MS = 1_000;

/**
 * The send scenario on two instances with Web Push on: every recipient of the bench's
 * conversations has a push subscription at a local push service that takes everything (201), and
 * none is connected, so every message is pushed PUSH_DELAY_MS after it was sent.
 */
async function withPush<T extends { requests: number; perSecond: number }>(
  env: Record<string, string>,
  nodeArgs: string[],
  databaseUrl: string,
  seeded: Seeded,
  load: (servers: ServerProcess[]) => Promise<T>,
) {
  let pushed = 0;
  let firstAt = 0;
  let lastAt = 0;
  const sink = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      pushed++;
      lastAt = Date.now();
      firstAt ||= lastAt;
      res.writeHead(201).end();
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  await sql`
    insert into push_subscriptions (endpoint, user_id, p256dh, auth)
    select ${sinkUrl} || '/push/' || m.user_id, m.user_id, ${ecdh.getPublicKey('base64url')},
           ${randomBytes(16).toString('base64url')}
      from conversation_members m
     where m.conversation_id = any(${seeded.pairs.map((p) => p.conversationId)}::uuid[])
       and m.user_id <> all(${seeded.pairs.map((p) => p.senderId)}::uuid[])
    on conflict do nothing`;
  const vapid = webPush.generateVAPIDKeys();
  const pushEnv = {
    ...env,
    VAPID_PUBLIC_KEY: vapid.publicKey,
    VAPID_PRIVATE_KEY: vapid.privateKey,
    PUSH_DELAY_MS: String(PUSH_DELAY_MS),
    ALLOW_PRIVATE_ENDPOINTS: 'true',
  };
  const pair = await Promise.all([0, 1].map(() => startServerProcess(pushEnv, { nodeArgs })));
  servers.push(...pair);
  const send = await load(pair);
  const sentAt = Date.now();
  // Until every push claimed is sent (bounded): the queue's backlog when the load stopped.
  const deadline = Date.now() + 60_000;
  let pending: number;
  do {
    await new Promise((r) => setTimeout(r, 250));
    const [row] = await sql<{ n: number }[]>`
      select (select count(*) from push_deliveries where sent_at is null and outcome is null)::int
           + (select count(*) from push_cursors pc join conversations c on c.id = pc.conversation_id
               where pc.last_seq < c.last_seq)::int as n`;
    pending = row!.n;
  } while (pending > 0 && Date.now() < deadline);
  await Promise.all(pair.map((s) => s.stop()));
  servers.splice(servers.indexOf(pair[0]!), 2);
  await sql`delete from push_subscriptions`;
  await sql.end();
  sink.close();
  return {
    send,
    pushed,
    pushesPerSecond: pushed / Math.max(0.001, (lastAt - firstAt) / 1000),
    pending,
    drainMs: Math.max(0, lastAt - sentAt),
  };
}

async function bareBroadcast(count: number) {
  const server = child('bare-ws-server.ts');
  const { port } = await ask<{ port: number }>(server, null, (r) => 'port' in r);
  const load = child('load-ws.ts');
  await ask(load, null, (r) => r['ready'] === true);
  await ask(
    load,
    { cmd: 'connect', mode: 'bare', url: `ws://127.0.0.1:${port}`, count: SUBSCRIBERS },
    (r) => 'connected' in r,
  );
  const payload = JSON.stringify({
    seq: 0,
    id: '1',
    type: 'next',
    payload: {
      data: {
        messageAdded: {
          id: 'x'.repeat(27),
          seq: 1,
          body: 'fan-out 1795241537738',
          createdAt: new Date().toISOString(),
          status: 'SENT',
          sender: { id: randomUUID(), displayName: 'Bench 2000' },
        },
      },
    },
  });
  const t0 = Date.now();
  const cpu0 = cpuOf(server.pid!);
  const system0 = systemCpuOf(server.pid!);
  await ask(server, { count, payload }, (r) => 'sent' in r);
  const sent: Record<string, number> = {};
  for (let s = 1; s <= count; s++) sent[s] = t0;
  let report: { deliveries: number; lost: number; lastAt: number };
  do {
    await new Promise((r) => setTimeout(r, 100));
    report = await ask(load, { cmd: 'report', sent }, (x) => 'lost' in x);
  } while (report.deliveries < count * SUBSCRIBERS && Date.now() - t0 < 30_000);
  const cpuUsPerDelivery = (cpuOf(server.pid!) - cpu0) / report.deliveries;
  const systemCpuUsPerDelivery = (systemCpuOf(server.pid!) - system0) / report.deliveries;
  load.send({ cmd: 'exit' });
  server.kill();
  return {
    deliveriesPerSecond: report.deliveries / ((report.lastAt - t0) / 1000),
    cpuUsPerDelivery,
    systemCpuUsPerDelivery,
  };
}

async function main() {
  log(
    `starting PostgreSQL (synchronous_commit=on) and ${REDIS_CLUSTER ? 'a Redis Cluster (3 masters, 3 replicas)' : 'Redis'}`,
  );
  const [pg, redis] = await Promise.all([
    startPostgres({ durable: true, settings: ['shared_preload_libraries=pg_stat_statements'] }),
    REDIS_CLUSTER ? startRedisCluster() : startRedis(),
  ]);
  if (!pg || !redis) throw new Error("the benchmark needs Debian's postgresql and redis-server");
  services.push(
    { pids: () => [pg.pid], stop: () => pg.stop() },
    {
      pids: () => ('seeds' in redis ? redis.nodes.map((n) => n.pid) : [redis.pid]),
      stop: () => redis.stop(),
    },
  );
  const redisEnv: Record<string, string> =
    'seeds' in redis
      ? { REDIS_CLUSTER_NODES: redis.seeds, REDIS_PASSWORD: redis.password }
      : { REDIS_URL: redis.url };
  const databaseUrl = await createDatabase(pg.url, 'bench');
  if (!PARTITIONS) {
    log('BENCH_PARTITIONS=0: the per-conversation tables are plain tables, not partitioned');
    await createWithoutPartitions(databaseUrl);
  }
  const stats = dbStats(databaseUrl);
  const env = {
    DATABASE_URL: databaseUrl,
    ...redisEnv,
    NODE_ENV: 'production',
    JWT_SECRET,
    DATA_DIR: dataDir,
    RATE_LIMIT_MULTIPLIER: '0',
    LOG_LEVEL: 'warn',
    DB_POOL_SIZE: '32',
  };
  const tokens = createTokenService(JWT_SECRET, '1d');
  const nodeArgs = PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${path.join(benchDir, 'results', 'profiles')}`]
    : [];
  log('starting two Parley instances');
  const a = await startServerProcess(env, { nodeArgs });
  const b = await startServerProcess(env, { nodeArgs });
  servers.push(a, b);
  // Seeded when a scenario first needs it (the lag scenario makes its own conversation).
  let seeding: Promise<Seeded> | undefined;
  const seeded = () => (seeding ??= (log('seeding'), seed(databaseUrl)));

  // Half the connections (and conversations) on each instance, from two load processes: as
  // fast as they are answered, then at a share of that rate (latency when not saturated). What
  // the database did for them is counted over the saturated run.
  const overBoth = async (mode: 'send' | 'history', pair: readonly ServerProcess[] = [a, b]) => {
    const work = (await seeded()).pairs.map((p) => ({
      token: p.token,
      conversationId: p.conversationId,
    }));
    const load = async (seconds: number, overallRate?: number) =>
      (
        await loadOverServers(pair, {
          mode,
          connections: 32,
          seconds,
          work,
          ...(overallRate ? { overallRate } : {}),
        })
      ).total;
    const { result: saturated, cost } = await stats.during(() => load(SECONDS));
    const rate = Math.round(saturated.perSecond * UNSATURATED_SHARE);
    const unsaturated = await load(Math.max(3, SECONDS / 2), rate);
    return {
      ...saturated,
      ...perOperation(cost, saturated.requests),
      unsaturated: { rate, p50: unsaturated.p50, p99: unsaturated.p99, errors: unsaturated.errors },
    };
  };
  if (ONLY.has('send'))
    log(
      `send: sendMessage over HTTP, 64 connections (32 per instance), ${CONVERSATIONS} conversations, ${SECONDS} s`,
    );
  const send = ONLY.has('send') ? await overBoth('send') : null;
  let push: Awaited<ReturnType<typeof withPush<Awaited<ReturnType<typeof overBoth>>>>> | null =
    null;
  if (ONLY.has('push')) {
    log(
      `push: the send scenario again, on two instances with Web Push on (every recipient has a subscription, PUSH_DELAY_MS=${PUSH_DELAY_MS}, none connected: every message is pushed)`,
    );
    push = await withPush(env, nodeArgs, databaseUrl, await seeded(), (servers) =>
      overBoth('send', servers),
    );
  }
  if (ONLY.has('history'))
    log(
      `history: messages(last: 50) on ${CONVERSATIONS * HISTORY_PER_CONVERSATION} messages, ${SECONDS} s`,
    );
  const history = ONLY.has('history') ? await overBoth('history') : null;
  if (ONLY.has('search'))
    log(
      `search: searchMessages over HTTP, ${SEARCH_USERS} users each in ${SEARCH_CONVERSATIONS_PER_USER} conversations of ${HISTORY_PER_CONVERSATION} messages, 5 query kinds × (all conversations, one)`,
    );
  const search = ONLY.has('search')
    ? await searchScenario(
        [a, b],
        databaseUrl,
        (await seeded()).pairs.map((p) => p.conversationId),
        HISTORY_PER_CONVERSATION,
        (id) => tokens.issue(id),
        Math.max(3, SECONDS / 2),
      )
    : null;
  if (ONLY.has('lag'))
    log(
      `lag: sendMessage into one conversation over HTTP, 32 connections (16 per instance), one subscriber per instance, ${SECONDS} s`,
    );
  const lag = ONLY.has('lag') ? await lagUnderLoad([a, b], SECONDS) : null;
  if (ONLY.has('hotroom'))
    log(
      `hot room: ${HOT_ROOM_MEMBERS} members sending into one conversation, ${2 * HOT_ROOM_CONNECTIONS_PER_INSTANCE} connections (${HOT_ROOM_CONNECTIONS_PER_INSTANCE} per instance), ${SECONDS} s`,
    );
  let hot: Awaited<ReturnType<typeof stats.during<Awaited<ReturnType<typeof hotRoom>>>>> | null =
    null;
  if (ONLY.has('hotroom')) {
    const room = (await seeded()).hotRoom;
    // Meanwhile 50 sends/s into the 1,000 quiet pair conversations.
    const quiet = (await seeded()).pairs.map((p) => ({
      token: p.token,
      conversationId: p.conversationId,
    }));
    hot = await stats.during(() =>
      hotRoom([a, b], databaseUrl, room, SECONDS, { work: quiet, rate: HOT_ROOM_QUIET_RATE }),
    );
  }
  if (ONLY.has('fanout')) log(`fan-out: ${SUBSCRIBERS} subscribers on two instances`);
  let fan: Awaited<ReturnType<typeof fanOut>> | null = null;
  if (ONLY.has('fanout')) {
    const { group } = await seeded();
    // Fresh instances, so their memory growth is the subscribers', not the earlier scenarios'.
    await Promise.all(servers.splice(0).map((s) => s.stop()));
    const [fa, fb] = await Promise.all([0, 1].map(() => startServerProcess(env, { nodeArgs })));
    servers.push(fa!, fb!);
    fan = await fanOut(fa!, fb!, group);
  }
  const bigLoad = {
    subscribers: Number(process.env.BENCH_BIGROOM_SUBSCRIBERS ?? BIG_ROOM_LOAD.subscribers),
    sendsPerSecond: Number(process.env.BENCH_BIGROOM_RATE ?? BIG_ROOM_LOAD.sendsPerSecond),
    seconds: BIG_ROOM_LOAD.seconds,
  };
  if (ONLY.has('bigroom'))
    log(
      `big room: a PUBLIC group of ${BIG_ROOM_MEMBERS} members taking ${bigLoad.sendsPerSecond} messages/s while members join and leave, ${bigLoad.subscribers} of them subscribed over two instances, ${bigLoad.seconds} s`,
    );
  const big = ONLY.has('bigroom')
    ? await bigRoom(
        [servers[0]!, servers[1]!],
        databaseUrl,
        stats,
        (id) => tokens.issue(id),
        bigLoad,
      )
    : null;
  await Promise.all(servers.map((s) => s.stop()));
  const db = ONLY.has('ceiling')
    ? (log('ceilings: postgres.js directly, and a bare ws broadcast'),
      await runJob<{ name: string; perSecond: number; p50: number; p99: number }[]>(
        'ceiling-db.ts',
        {
          databaseUrl,
          connections: 64,
          seconds: Math.max(3, Math.round(SECONDS / 2)),
          work: (await seeded()).pairs.map((p) => ({
            senderId: p.senderId,
            conversationId: p.conversationId,
          })),
          hotRoom: {
            conversationId: (await seeded()).hotRoom.id,
            senderIds: (await seeded()).hotRoom.memberIds,
            connections: 2 * HOT_ROOM_CONNECTIONS_PER_INSTANCE,
          },
        },
      ))
    : [];
  const bare = ONLY.has('ceiling') ? await bareBroadcast(200) : null;
  const ceiling = Object.fromEntries(db.map((r) => [r.name, r]));

  type Measure = { perSecond: number; p50: number; p99: number; errors: number };
  const fanRow = (m: typeof fan extends null ? never : NonNullable<typeof fan>['steady']) => ({
    perSecond: m.deliveriesPerSecond,
    p50: m.p50,
    p99: m.p99,
    errors: m.lost + m.duplicated,
  });
  const rows: [string, Measure | null, number | undefined, string][] = [
    ['send (messages/s)', send, ceiling['send-statement']?.perSecond, 'single-statement send'],
    ['history (pages/s)', history, ceiling['history-page']?.perSecond, 'raw keyset page'],
    [
      'hot room (messages/s)',
      hot && {
        ...hot.result,
        errors:
          hot.result.errors +
          hot.result.lost +
          hot.result.duplicated +
          (hot.result.gapFree ? 0 : 1),
      },
      ceiling['hot-room-statement']?.perSecond,
      'same statement, one conversation',
    ],
    [
      'lag under load (sends/s)',
      lag && {
        perSecond: lag.sendsPerSecond,
        p50: lag.p50,
        p99: lag.p99,
        errors: lag.lost + lag.duplicated + lag.sendErrors,
      },
      undefined,
      'p50/p99: subscriber lag',
    ],
    [
      'fan-out @10/s (deliveries/s)',
      fan && fanRow(fan.steady),
      bare?.deliveriesPerSecond,
      'bare ws broadcast',
    ],
    [
      'fan-out max (deliveries/s)',
      fan && fanRow(fan.flat),
      bare?.deliveriesPerSecond,
      'bare ws broadcast',
    ],
    [
      'big room (deliveries/s)',
      big && {
        perSecond: big.deliveriesPerSecond,
        p50: big.latency.p50,
        p99: big.latency.p99,
        errors:
          big.lost +
          big.duplicated +
          big.reordered +
          big.sends.errors +
          big.joins.errors +
          big.leaves.errors +
          (big.memberCountAfter === big.membersAfter ? 0 : 1),
      },
      undefined,
      '10k members, joins and leaves',
    ],
  ];
  console.log(
    '\nscenario                        Parley      p50 ms   p99 ms   errors   ceiling     ratio   (ceiling)',
  );
  for (const [name, m, floor, what] of rows) {
    if (!m) continue;
    console.log(
      `${name.padEnd(30)} ${m.perSecond.toFixed(0).padStart(9)} ${m.p50.toFixed(1).padStart(8)} ${m.p99.toFixed(1).padStart(8)} ${String(m.errors).padStart(8)} ${floor === undefined ? '        -' : floor.toFixed(0).padStart(9)} ${floor === undefined ? '      -' : ((100 * m.perSecond) / floor).toFixed(0).padStart(7)} %   ${what}`,
    );
  }
  if (ceiling['send-transaction'])
    console.log(
      `send-transaction ceiling (BEGIN/UPDATE/INSERT/COMMIT): ${ceiling['send-transaction'].perSecond.toFixed(0)}/s`,
    );
  for (const [name, m] of [
    ['send', send],
    ['history page', history],
  ] as const) {
    if (!m) continue;
    console.log(
      `${name}: ${m.statements.toFixed(2)} statements and ${m.commits.toFixed(2)} writing commits per ${name === 'send' ? 'send' : 'page'}; at ${m.unsaturated.rate}/s (${Math.round(100 * UNSATURATED_SHARE)} % of saturation): p50 ${m.unsaturated.p50} ms, p99 ${m.unsaturated.p99} ms, errors ${m.unsaturated.errors}`,
    );
  }
  if (push) {
    console.log(
      `send with Web Push on: ${push.send.perSecond.toFixed(0)} messages/s (p50 ${push.send.p50.toFixed(1)} ms, p99 ${push.send.p99.toFixed(1)} ms, errors ${push.send.errors})${send ? ` against ${send.perSecond.toFixed(0)}/s with it off (${((100 * push.send.perSecond) / send.perSecond).toFixed(0)} %)` : ''}; ${push.pushed} pushes taken by the push service, ${push.pushesPerSecond.toFixed(0)}/s, all ${push.pending === 0 ? 'sent' : `but ${push.pending} sent`} ${(push.drainMs / 1000).toFixed(1)} s after the last send; ${push.send.statements.toFixed(2)} statements and ${push.send.commits.toFixed(2)} writing commits per send`,
    );
  }
  if (hot) {
    const h = hot.result;
    const cost = perOperation(hot.cost, h.requests);
    console.log(
      `hot room: ${h.acknowledged} sends acknowledged, ${h.stored} stored (those in flight at the end too), seq ${h.gapFree ? 'gap-free' : 'NOT GAP-FREE'}, ${h.lost} lost, ${h.duplicated} duplicated, ${h.errors} errors; ${cost.statements.toFixed(2)} statements and ${cost.commits.toFixed(2)} writing commits per send (target ≥ 1,000/s: ${h.perSecond >= 1_000 ? 'met' : 'missed'})`,
    );
    if (h.quiet)
      console.log(
        `hot room: meanwhile ${h.quiet.perSecond.toFixed(0)} sends/s into quiet conversations: p50 ${h.quiet.p50.toFixed(1)} ms, p99 ${h.quiet.p99.toFixed(1)} ms, errors ${h.quiet.errors}`,
      );
  }
  if (search) printSearch(search);
  if (lag) printLag(lag);
  if (fan)
    console.log(
      `fan-out: lost ${fan.steady.lost + fan.flat.lost}, duplicated ${fan.steady.duplicated + fan.flat.duplicated}; server RSS growth per subscribed connection (peak) ${(fan.rssPerSubscriberBytes / 1024).toFixed(1)} KB`,
    );
  if (fan)
    console.log(
      `fan-out server CPU per delivery (both instances): ${fan.steady.serverCpuUsPerDelivery.toFixed(1)} µs @10/s, ${fan.flat.serverCpuUsPerDelivery.toFixed(1)} µs max (system ${fan.flat.serverSystemCpuUsPerDelivery.toFixed(1)})${bare ? `; bare ws broadcast ${bare.cpuUsPerDelivery.toFixed(1)} µs (system ${bare.systemCpuUsPerDelivery.toFixed(1)})` : ''}; subscribers' process ${fan.flat.subscribersCpuUsPerDelivery.toFixed(1)} µs max; PostgreSQL and Redis ${fan.flat.storesCpuUsPerDelivery.toFixed(1)} µs max; machine busy ${(100 * fan.flat.machineBusy).toFixed(0)} % during max`,
    );
  if (big) printBigRoom(big);
  const result = {
    date: new Date().toISOString(),
    seconds: SECONDS,
    partitioned: PARTITIONS,
    redis: REDIS_CLUSTER ? 'cluster' : 'single',
    send,
    sendWithPush: push,
    history,
    search,
    lagUnderLoad: lag,
    hotRoom: hot && {
      perSecond: hot.result.perSecond,
      p50: hot.result.p50,
      p99: hot.result.p99,
      errors: hot.result.errors,
      ceiling: ceiling['hot-room-statement']?.perSecond ?? null,
      acknowledged: hot.result.acknowledged,
      stored: hot.result.stored,
      lost: hot.result.lost,
      gapFree: hot.result.gapFree,
      duplicated: hot.result.duplicated,
      quiet: hot.result.quiet,
      ...perOperation(hot.cost, hot.result.requests),
    },
    fanOut: fan,
    bigRoom: big,
    ceiling: { db, bareBroadcast: bare },
  };
  mkdirSync(path.join(benchDir, 'results'), { recursive: true });
  const file = path.join(benchDir, 'results', `${result.date.slice(0, 10)}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  await stats.end();
  log(`done; results in ${path.relative(process.cwd(), file)}`);
}

async function cleanup() {
  await Promise.allSettled(servers.map((s) => s.stop('SIGKILL')));
  await Promise.allSettled(services.map((s) => s.stop()));
  stopChildren();
}

const fail = async (err: unknown) => {
  console.error(err);
  await cleanup();
  process.exit(1);
};
// Whatever ends the run (a failure anywhere, ^C, a timeout's SIGTERM), the instances, the stores
// and the load processes end with it instead of living on.
process.on('unhandledRejection', (err) => void fail(err));
process.on('uncaughtException', (err) => void fail(err));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void fail(new Error(`stopped by ${signal}`)));
}
main().then(cleanup).catch(fail);
