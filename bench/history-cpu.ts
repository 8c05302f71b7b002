// The history page's server CPU, measured apart from throughput (which a shared machine makes
// noisy): one Parley instance per checkout, the same `messages(last: 50)` load as the bench's
// history scenario, and the instance's own CPU time (/proc/<pid>/stat) divided by the pages it
// served. Then the same page at a fixed rate well below saturation, for its p50/p99.
//
//   npm run bench:history-cpu [-- <checkout> ...]   (default: this checkout)
//
// Several checkouts (e.g. a `git archive` of the base commit with node_modules linked) run in
// turn, round after round, against one database, so they are compared back to back.
// HISTORY_CPU_ROUNDS (3), HISTORY_CPU_SECONDS (8), HISTORY_CPU_RATE (pages/s, 300),
// HISTORY_CPU_NODE_ARGS (extra node flags for the instances);
// HISTORY_CPU_PROFILE=1 also writes a CPU profile of each loaded window (not of the start) to
// bench/results/profiles/ for `npm run bench:profile`.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import {
  createDatabase,
  getFreePort,
  startPostgres,
  startRedis,
  type Service,
} from '../test/support/services.js';
import { benchDir, dataDir, log, runJob, stopChildren } from './harness.js';
import { cpuOf } from './proc.js';
import { seedPairs } from './seed-pairs.js';

const ROUNDS = Number(process.env.HISTORY_CPU_ROUNDS ?? 3);
const SECONDS = Number(process.env.HISTORY_CPU_SECONDS ?? 8);
const RATE = Number(process.env.HISTORY_CPU_RATE ?? 300);
const PROFILE = process.env.HISTORY_CPU_PROFILE === '1';
/** Extra node flags for the instances, e.g. HISTORY_CPU_NODE_ARGS=--max-semi-space-size=32. */
const NODE_ARGS = (process.env.HISTORY_CPU_NODE_ARGS ?? '').split(' ').filter(Boolean);
const CONVERSATIONS = 200;
const HISTORY_PER_CONVERSATION = 1_000;
const JWT_SECRET = randomBytes(32).toString('hex');
const checkouts = process.argv.slice(2).length ? process.argv.slice(2) : [process.cwd()];

const services: Service[] = [];
let running: ChildProcess | undefined;

/** A process's CPU time (user + system) in ms. */
const cpuMs = (pid: number) => cpuOf(pid) / 1000;

async function startInstance(checkout: string, env: Record<string, string>, inspectPort: number) {
  const port = await getFreePort();
  const child = spawn(
    process.execPath,
    [
      ...NODE_ARGS,
      ...(PROFILE ? [`--inspect=127.0.0.1:${inspectPort}`] : []),
      '--import',
      'tsx',
      'src/main.ts',
    ],
    {
      cwd: checkout,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        PORT: String(port),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  running = child;
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`instance exited:\n${output}`);
    if (
      await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) throw new Error(`instance not healthy:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, url: `http://127.0.0.1:${port}` };
}

/** Starts V8's sampling profiler in a process started with --inspect; resolves a stopper. */
async function profileOf(inspectPort: number): Promise<() => Promise<unknown>> {
  const [target] = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const socket = new WebSocket(target!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  let id = 0;
  const call = (method: string, params: object = {}) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const mine = ++id;
      const onMessage = (data: WebSocket.RawData) => {
        const reply = JSON.parse(data.toString()) as {
          id?: number;
          result: Record<string, unknown>;
        };
        if (reply.id !== mine) return;
        socket.off('message', onMessage);
        resolve(reply.result);
      };
      socket.on('message', onMessage);
      socket.send(JSON.stringify({ id: mine, method, params }));
    });
  await call('Profiler.enable');
  await call('Profiler.start');
  return async () => {
    const { profile } = await call('Profiler.stop');
    socket.close();
    return profile;
  };
}

interface Load {
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

async function main() {
  log('starting PostgreSQL (synchronous_commit=on) and Redis');
  const [pg, redis] = await Promise.all([startPostgres({ durable: true }), startRedis()]);
  if (!pg || !redis) throw new Error("the benchmark needs Debian's postgresql and redis-server");
  services.push(pg, redis);
  const databaseUrl = await createDatabase(pg.url, 'bench');
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.url,
    NODE_ENV: 'production',
    JWT_SECRET,
    DATA_DIR: dataDir,
    RATE_LIMIT_MULTIPLIER: '0',
    LOG_LEVEL: 'warn',
    DB_POOL_SIZE: '32',
  };
  // The first start applies the migrations; seeding follows.
  const first = await startInstance(checkouts[0]!, env, 0);
  first.child.kill();
  await new Promise((r) => first.child.once('exit', r));
  log(`seeding ${CONVERSATIONS * HISTORY_PER_CONVERSATION} messages`);
  const work = await seedPairs(databaseUrl, {
    conversations: CONVERSATIONS,
    perConversation: HISTORY_PER_CONVERSATION,
    jwtSecret: JWT_SECRET,
  });

  const results: Record<
    string,
    { cpuMsPerPage: number; cpuMsPerPageAtRate: number; saturated: Load; fixedRate: Load }[]
  > = {};
  for (let round = 1; round <= ROUNDS; round++) {
    for (const checkout of checkouts) {
      const inspectPort = await getFreePort();
      const instance = await startInstance(checkout, env, inspectPort);
      const job = (seconds: number, rate?: number) =>
        runJob<Load>('load-http.ts', {
          url: instance.url,
          mode: 'history',
          connections: 32,
          seconds,
          work,
          ...(rate ? { overallRate: rate } : {}),
        });
      await job(3); // warm: code compiled, pools open, documents cached
      const stopProfile = PROFILE ? await profileOf(inspectPort) : null;
      const before = cpuMs(instance.child.pid!);
      const saturated = await job(SECONDS);
      const cpu = cpuMs(instance.child.pid!) - before;
      if (stopProfile) {
        const dir = path.join(benchDir, 'results', 'profiles');
        mkdirSync(dir, { recursive: true });
        const name = `history-${path.basename(checkout)}-${round}.cpuprofile`;
        writeFileSync(path.join(dir, name), JSON.stringify(await stopProfile()));
      }
      const beforeRate = cpuMs(instance.child.pid!);
      const fixedRate = await job(SECONDS, RATE);
      const cpuAtRate = cpuMs(instance.child.pid!) - beforeRate;
      instance.child.kill();
      await new Promise((r) => instance.child.once('exit', r));
      const cpuMsPerPage = cpu / saturated.requests;
      const cpuMsPerPageAtRate = cpuAtRate / fixedRate.requests;
      (results[checkout] ??= []).push({ cpuMsPerPage, cpuMsPerPageAtRate, saturated, fixedRate });
      log(
        `${checkout} round ${round}: ${cpuMsPerPage.toFixed(2)} ms CPU/page, ${saturated.perSecond.toFixed(0)} pages/s (p99 ${saturated.p99} ms, ${saturated.errors} errors); at ${RATE}/s ${cpuMsPerPageAtRate.toFixed(2)} ms CPU/page, p50 ${fixedRate.p50} ms p99 ${fixedRate.p99} ms (${fixedRate.errors} errors)`,
      );
    }
  }
  // The machine is shared: other work inflates a run's CPU time (caches, switches) and never
  // deflates it, so the best of the rounds (least CPU, most pages) is reported beside their median.
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    `\n${ROUNDS} rounds: median (best)            CPU ms/page      pages/s   CPU ms/page@${RATE}/s   p99@${RATE}/s ms`,
  );
  for (const [checkout, runs] of Object.entries(results)) {
    const column = (f: (r: (typeof runs)[number]) => number, digits: number, width: number) => {
      const xs = runs.map(f);
      const best = f === perSecond ? Math.max(...xs) : Math.min(...xs);
      return `${median(xs).toFixed(digits)} (${best.toFixed(digits)})`.padStart(width);
    };
    console.log(
      `${checkout.padEnd(36)} ${column((r) => r.cpuMsPerPage, 2, 13)} ${column(perSecond, 0, 12)} ${column((r) => r.cpuMsPerPageAtRate, 2, 21)} ${column((r) => r.fixedRate.p99, 0, 14)}`,
    );
  }
}

const perSecond = (r: { saturated: Load }) => r.saturated.perSecond;

async function cleanup() {
  if (running && running.exitCode === null) running.kill('SIGKILL');
  await Promise.allSettled(services.map((s) => s.stop()));
  stopChildren();
}

main()
  .then(cleanup)
  .catch(async (err: unknown) => {
    console.error(err);
    await cleanup();
    process.exit(1);
  });
