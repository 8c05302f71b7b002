// CPU per request, by operation: one Parley instance (production mode, its own PostgreSQL and
// Redis), requests from 16 concurrent clients in another process; reports the server's CPU time
// (user + system, from /proc) per request, which, unlike requests per second, holds up on a
// machine that is busy with other things. `node --import tsx bench/cpu-per-request.ts [n]`;
// CPU_ONLY=sendMessage (a part of an operation's name) runs only the matching ones, and
// CPU_NODE_ARGS passes node flags to the server (CPU_NODE_ARGS=--cpu-prof profiles it).
import { randomBytes, randomUUID } from 'node:crypto';
import {
  createGroupAt,
  registerAt,
  startServerProcess,
  type ServerProcess,
} from '../test/support/process.js';
import { createDatabase, startPostgres, startRedis } from '../test/support/services.js';
import { cpuOf, systemCpuOf, treeCpuOf } from './proc.js';

const N = Number(process.argv[2] ?? 3_000);
const CONCURRENCY = 16;
const cpuMs = (pid: number) => cpuOf(pid) / 1000;
const ONLY = process.env.CPU_ONLY;
const NODE_ARGS = (process.env.CPU_NODE_ARGS ?? '').split(' ').filter(Boolean);

const [pg, redis] = await Promise.all([startPostgres({ durable: true }), startRedis()]);
if (!pg || !redis) throw new Error('needs postgresql and redis-server');
let server: ServerProcess | undefined;
try {
  server = await startServerProcess(
    {
      DATABASE_URL: await createDatabase(pg.url, 'cpu'),
      REDIS_URL: redis.url,
      NODE_ENV: 'production',
      JWT_SECRET: randomBytes(32).toString('hex'),
      RATE_LIMIT_MULTIPLIER: '0',
      LOG_LEVEL: 'warn',
    },
    { nodeArgs: NODE_ARGS },
  );
  const s = server;
  const [ann, bob] = [await registerAt(s, 'ann'), await registerAt(s, 'bob')];
  const conversations = await Promise.all(
    Array.from({ length: 64 }, () => createGroupAt(s, ann, [bob])),
  );
  const post = async (query: string, variables: object) => {
    const res = await fetch(s.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ann.token}` },
      body: JSON.stringify({ query, variables }),
    });
    const text = await res.text();
    if (res.status !== 200 || text.includes('"errors"')) throw new Error(text.slice(0, 300));
  };
  const allOperations: [string, (i: number) => Promise<void>][] = [
    ['{ __typename }', () => post('{ __typename }', {})],
    ['me { id }', () => post('{ me { id } }', {})],
    [
      'sendMessage',
      (i) =>
        post('mutation($i: SendMessageInput!) { sendMessage(input: $i) { id seq } }', {
          i: {
            conversationId: conversations[i % conversations.length],
            body: `cpu ${i}`,
            clientMessageId: randomUUID(),
          },
        }),
    ],
    [
      'messages(last: 50)',
      (i) =>
        post(
          'query($id: ID!) { messages(conversationId: $id, last: 50) { edges { cursor node { id seq body createdAt sender { id } } } pageInfo { hasPreviousPage startCursor } } }',
          { id: conversations[i % conversations.length] },
        ),
    ],
  ];
  const operations = allOperations.filter(([name]) => !ONLY || name.includes(ONLY));
  const pid = s.child.pid!;
  // Two rounds: the first warms the server up (code compiled, pools full), the second counts.
  for (const [round, [name, op]] of [...operations, ...operations].entries()) {
    const runAll = async (count: number) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < count) await op(next++);
        }),
      );
    };
    await runAll(Math.min(500, N)); // warm up
    if (round < operations.length) {
      await runAll(N);
      continue;
    }
    const before = {
      cpu: cpuMs(pid),
      sys: systemCpuOf(pid),
      pg: treeCpuOf(pg.pid),
      redis: cpuOf(redis.pid),
    };
    const t0 = performance.now();
    await runAll(N);
    const cpu = cpuMs(pid) - before.cpu;
    const wall = performance.now() - t0;
    // µs per request (the counters are in µs; cpuMs in ms)
    const per = (us: number) => (us / N).toFixed(0).padStart(5);
    console.log(
      `${name.padEnd(22)} ${((1000 * cpu) / N).toFixed(0).padStart(6)} µs CPU per request   (${((N * 1000) / wall).toFixed(0)}/s)` +
        `   of it system ${per(systemCpuOf(pid) - before.sys)} µs; PostgreSQL ${per(treeCpuOf(pg.pid) - before.pg)} µs, Redis ${per(cpuOf(redis.pid) - before.redis)} µs`,
    );
  }
} finally {
  // SIGTERM: a clean exit, which is when node writes a --cpu-prof profile.
  await server?.stop(NODE_ARGS.length ? 'SIGTERM' : 'SIGKILL');
  await Promise.allSettled([pg.stop(), redis.stop()]);
}
