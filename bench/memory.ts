// npm run bench:memory: the embedded server's idle RSS, then server memory per idle subscribed
// connection. One instance (production mode, embedded database, a fresh data folder) is left
// alone until /readyz answers and its RSS stops moving, and its VmRSS is read from /proc: what a
// laptop pays for `npm start` doing nothing. Then it takes a heap snapshot (which collects
// garbage first) before and after N clients connect and subscribe to messageAdded; the
// difference over N is the heap each connection keeps. (RSS growth per connection, which adds
// V8's free headroom and native socket memory, is what `npm run bench` reports for its 2,000
// subscribers.)
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { registerAt, startServerProcess } from '../test/support/process.js';
import { rssOf } from './proc.js';

const N = Number(process.env.BENCH_CONNECTIONS ?? 510);
const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-memory-'));
const server = await startServerProcess(
  {
    NODE_ENV: 'production',
    JWT_SECRET: randomBytes(32).toString('hex'),
    RATE_LIMIT_MULTIPLIER: '0',
    LOG_LEVEL: 'warn',
    DATA_DIR: dir,
  },
  { nodeArgs: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`] },
);

/** The server process's resident set, in MB. */
const rssMb = () => rssOf(server.child.pid!) / 1024 / 1024;

/** VmRSS once /readyz answers and RSS has moved less than 1 MB for 3 s (at most 60 s). */
async function idleRssMb(): Promise<number> {
  const readyz = server.url.replace(/\/graphql$/, '/readyz');
  const ready = () =>
    fetch(readyz).then(
      (r) => r.ok,
      () => false,
    );
  while (!(await ready())) await new Promise((r) => setTimeout(r, 100));
  let last = rssMb();
  for (let steady = 0, i = 0; steady < 6 && i < 120; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const now = rssMb();
    steady = Math.abs(now - last) < 1 ? steady + 1 : 0;
    last = now;
  }
  return last;
}

console.log(
  `embedded server idle (fresh data folder, ready and settled): RSS ${(await idleRssMb()).toFixed(0)} MB`,
);

/** Total heap in a snapshot written on SIGUSR2 (V8 collects garbage before writing it). */
async function heapSnapshotBytes(): Promise<number> {
  const before = new Set(readdirSync(dir));
  server.child.kill('SIGUSR2');
  let file: string | undefined;
  for (let i = 0; i < 600 && !file; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const done = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    // Written in one go at the end: wait until it parses.
    if (done) {
      try {
        const snapshot = JSON.parse(readFileSync(path.join(dir, done), 'utf8')) as {
          snapshot: { meta: { node_fields: string[] } };
          nodes: number[];
        };
        const fields = snapshot.snapshot.meta.node_fields;
        const size = fields.indexOf('self_size');
        let total = 0;
        for (let n = size; n < snapshot.nodes.length; n += fields.length) {
          total += snapshot.nodes[n]!;
        }
        rmSync(path.join(dir, done));
        return total;
      } catch {
        file = undefined;
      }
    }
  }
  throw new Error('no heap snapshot written');
}

const tokens: string[] = [];
for (let i = 0; i < N; i += 10) {
  tokens.push(
    ...(await Promise.all(
      Array.from({ length: 10 }, (_, k) => registerAt(server, `M${i + k}`).then((u) => u.token)),
    )),
  );
}
// Warm up the subscription path before the baseline.
const clients: Client[] = [];
const subscribeAll = async (list: string[]) => {
  let ready = 0;
  await new Promise<void>((resolve) => {
    for (const token of list) {
      const client = createClient({
        url: server.url.replace('http', 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${token}` },
        lazy: false,
        on: { connected: () => ++ready === list.length && resolve() },
      });
      client.subscribe(
        { query: 'subscription { messageAdded { id seq body createdAt sender { id } } }' },
        { next: () => {}, error: () => {}, complete: () => {} },
      );
      clients.push(client);
    }
  });
  await new Promise((r) => setTimeout(r, 2_000)); // subscriptions registered, sockets idle
};
await subscribeAll(tokens.slice(0, 10));
const heapBefore = await heapSnapshotBytes();
await subscribeAll(tokens.slice(10));
const heapAfter = await heapSnapshotBytes();
const n = tokens.length - 10;
console.log(
  `${n} idle subscribed connections: the server's heap keeps ${((heapAfter - heapBefore) / n / 1024).toFixed(1)} KB per connection (after garbage collection)`,
);
await Promise.all(clients.map((c) => c.dispose()));
await server.stop('SIGKILL');
rmSync(dir, { recursive: true, force: true });
