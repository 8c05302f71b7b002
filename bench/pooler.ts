// What a transaction pooler costs: the bench's history page (`messages(last: 50)`) and send
// load against one Parley instance at a time, in three set-ups on one database:
//   direct      DATABASE_URL is PostgreSQL; named prepared statements (the default)
//   unnamed     DATABASE_URL is PostgreSQL, DATABASE_POOLER=transaction: unnamed statements only
//   pgbouncer   DATABASE_URL is a PgBouncer (pool_mode=transaction), DATABASE_POOLER=transaction
// so the cost of unnamed statements and the cost of the extra hop show apart. The pool has as many
// server connections as the instance has client connections (DB_POOL_SIZE).
//
//   node --import tsx bench/pooler.ts
//
// POOLER_ROUNDS (3), POOLER_SECONDS (6). Needs Debian's postgresql, redis-server and pgbouncer.
import { randomBytes } from 'node:crypto';
import { findPgbouncer, startPgbouncer } from '../test/support/pgbouncer.js';
import { startServerProcess, type ServerProcess } from '../test/support/process.js';
import {
  createDatabase,
  startPostgres,
  startRedis,
  type Service,
} from '../test/support/services.js';
import { dataDir, log, runJob, stopChildren } from './harness.js';
import { seedPairs } from './seed-pairs.js';

const ROUNDS = Number(process.env.POOLER_ROUNDS ?? 3);
const SECONDS = Number(process.env.POOLER_SECONDS ?? 6);
const POOL = 16;
const CONVERSATIONS = 100;
const HISTORY = 200;
const JWT_SECRET = randomBytes(32).toString('hex');

interface Load {
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

const services: Service[] = [];
let instance: ServerProcess | undefined;

async function main() {
  const bin = findPgbouncer();
  if (!bin) throw new Error("the pooler bench needs Debian's pgbouncer");
  log('starting PostgreSQL (synchronous_commit=on), Redis and PgBouncer');
  const [pg, redis] = await Promise.all([startPostgres({ durable: true }), startRedis()]);
  if (!pg || !redis) throw new Error("the bench needs Debian's postgresql and redis-server");
  services.push(pg, redis);
  const bouncer = await startPgbouncer({ bin, postgresUrl: pg.url, poolSize: POOL });
  services.push(bouncer);
  const databaseUrl = await createDatabase(pg.url, 'bench');
  const base = {
    REDIS_URL: redis.url,
    NODE_ENV: 'production',
    JWT_SECRET,
    DATA_DIR: dataDir,
    RATE_LIMIT_MULTIPLIER: '0',
    LOG_LEVEL: 'warn',
    DB_POOL_SIZE: String(POOL),
  };
  const setups: Record<string, Record<string, string>> = {
    direct: { DATABASE_URL: databaseUrl },
    unnamed: {
      DATABASE_URL: databaseUrl,
      DATABASE_DIRECT_URL: databaseUrl,
      DATABASE_POOLER: 'transaction',
    },
    pgbouncer: {
      DATABASE_URL: bouncer.urlOf(databaseUrl),
      DATABASE_DIRECT_URL: databaseUrl,
      DATABASE_POOLER: 'transaction',
    },
  };
  // The first start applies the migrations; seeding follows.
  await (await startServerProcess({ ...base, ...setups.direct })).stop();
  log(`seeding ${CONVERSATIONS * HISTORY} messages`);
  const work = await seedPairs(databaseUrl, {
    conversations: CONVERSATIONS,
    perConversation: HISTORY,
    jwtSecret: JWT_SECRET,
  });

  const results: Record<string, { history: Load; send: Load }[]> = {};
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [name, env] of Object.entries(setups)) {
      instance = await startServerProcess({ ...base, ...env });
      const job = (mode: 'history' | 'send', seconds: number) =>
        runJob<Load>('load-http.ts', {
          url: instance!.url.replace(/\/graphql$/, ''),
          mode,
          connections: 32,
          seconds,
          work,
        });
      await job('history', 2); // warm: code compiled, pools open
      const history = await job('history', SECONDS);
      const send = await job('send', SECONDS);
      await instance.stop();
      instance = undefined;
      (results[name] ??= []).push({ history, send });
      log(
        `${name} round ${round}: ${history.perSecond.toFixed(0)} pages/s (p50 ${history.p50} ms, p99 ${history.p99} ms, ${history.errors} errors); ${send.perSecond.toFixed(0)} sends/s (p50 ${send.p50} ms, p99 ${send.p99} ms, ${send.errors} errors)`,
      );
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    `\n${ROUNDS} rounds, median    pages/s  p99 ms  sends/s  p99 ms  errors  (${POOL} server connections, 32 client connections)`,
  );
  for (const [name, runs] of Object.entries(results)) {
    const col = (f: (r: (typeof runs)[number]) => number, width: number) =>
      median(runs.map(f)).toFixed(0).padStart(width);
    const errors = runs.reduce((n, r) => n + r.history.errors + r.send.errors, 0);
    console.log(
      `${name.padEnd(20)} ${col((r) => r.history.perSecond, 8)} ${col((r) => r.history.p99, 7)} ${col((r) => r.send.perSecond, 8)} ${col((r) => r.send.p99, 7)} ${String(errors).padStart(7)}`,
    );
  }
}

async function cleanup() {
  await instance?.stop('SIGKILL');
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
