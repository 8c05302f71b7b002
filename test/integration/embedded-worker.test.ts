// graphile-worker over the embedded database (src/db/pglite-pool.ts): its migrations, LISTEN,
// retries and delays on the one PGlite session the app uses, with its transactions exclusive of
// the app's statements and the app's transactions exclusive of its statements.
import { sql } from 'drizzle-orm';
import {
  Logger,
  makeWorkerUtils,
  run,
  runMigrations,
  type Job,
  type JobHelpers,
  type Runner,
  type WorkerUtils,
} from 'graphile-worker';
import type { Pool, PoolClient } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, queryRows, type DatabaseHandle } from '../../src/db/client.js';
import { pglitePool } from '../../src/db/pglite-pool.js';

type PgliteHandle = Extract<DatabaseHandle, { kind: 'pglite' }>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(probe: () => T | undefined | Promise<T | undefined>, what: string) {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** What graphile-worker logs at error level (a failing task's failures, and anything else). */
const errors: string[] = [];
const logger = new Logger(() => (level, message) => {
  if (level === 'error') errors.push(message);
});

interface Ran {
  n: number;
  at: number;
  job: Job;
}
const ran: Ran[] = [];
const attemptsOfFailing: number[] = [];

const taskList = {
  t: async (payload: unknown, helpers: JobHelpers) => {
    ran.push({ n: (payload as { n: number }).n, at: Date.now(), job: helpers.job });
  },
  fails: async (_payload: unknown, helpers: JobHelpers) => {
    attemptsOfFailing.push(helpers.job.attempts);
    throw new Error('boom');
  },
  // A transaction on the worker's own client, yielding in the middle while the app keeps busy.
  txn: async (payload: unknown, helpers: JobHelpers) => {
    const { n, commit } = payload as { n: number; commit: boolean };
    await helpers.withPgClient(async (client: PoolClient) => {
      await client.query('begin');
      const before = await countOf(client, 'app');
      await client.query('insert into probe (who, n) values ($1, $2)', ['worker', n]);
      await sleep(10);
      const after = await countOf(client, 'app');
      const own = await client.query<{ c: number }>(
        `select count(*)::int as c from probe where who = 'worker' and n = $1`,
        [n],
      );
      await client.query(commit ? 'commit' : 'rollback');
      inWorkerTransactions.push({ before, after, own: own.rows[0]!.c });
    });
  },
};
const inWorkerTransactions: { before: number; after: number; own: number }[] = [];

async function countOf(client: PoolClient, who: string): Promise<number> {
  const { rows } = await client.query<{ c: number }>(
    'select count(*)::int as c from probe where who = $1',
    [who],
  );
  return rows[0]!.c;
}

let handle: PgliteHandle;
let pgPool: Pool;

async function count(query: ReturnType<typeof sql>): Promise<number> {
  const [row] = await queryRows<{ c: number }>(handle.db, query);
  return Number(row!.c);
}

async function listeningChannels(): Promise<string[]> {
  const rows = await queryRows<{ c: string }>(handle.db, sql`select pg_listening_channels() as c`);
  return rows.map((r) => r.c).sort();
}

function startRunner(pollInterval: number): Promise<Runner> {
  return run({
    pgPool,
    taskList,
    concurrency: 3,
    noHandleSignals: true,
    pollInterval,
    parsedCronItems: [],
    logger,
  });
}

beforeAll(async () => {
  const opened = await openDatabase({ statementTimeoutMs: 5_000 });
  if (opened.kind !== 'pglite') throw new Error('expected the embedded database');
  handle = opened;
  pgPool = pglitePool(handle.pglite);
  // As graphile-worker asks of a pool it is given.
  pgPool.on('error', (err) => errors.push(`pool: ${err.message}`));
  pgPool.on('connect', (client) =>
    client.on('error', (err) => errors.push(`client: ${err.message}`)),
  );
  await handle.db.execute(sql`create table probe (who text not null, n int not null)`);
});

afterAll(async () => {
  await handle?.close();
});

describe('graphile-worker on the embedded database', () => {
  let runner: Runner;

  it('installs its schema while the app keeps working, its migrations exclusive of the app', async () => {
    // Each migration is a transaction on one client; the app's statements must run between them,
    // never inside. A statement of its own (simple protocol) starts its transaction when it
    // starts; inside another's, the transaction started earlier.
    let migrated = false;
    const migrating = runMigrations({ pgPool, logger }).finally(() => (migrated = true));
    const alone: boolean[] = [];
    const outcomes: string[] = [];
    for (let i = 0; !migrated; i++) {
      await Promise.all([
        handle.pglite
          .exec('select statement_timestamp() = transaction_timestamp() as alone')
          .then(([result]) => alone.push((result!.rows[0] as { alone: boolean }).alone)),
        handle.db
          .transaction(async (tx) => {
            await tx.execute(sql`insert into probe (who, n) values ('app-tx', ${i})`);
            await tx.execute(sql`insert into probe (who, n) values ('app-tx', ${i})`);
            const [own] = await queryRows<{ c: number }>(
              tx,
              sql`select count(*)::int as c from probe where who = 'app-tx' and n = ${i}`,
            );
            expect(own!.c).toBe(2);
            if (i % 2 === 1) tx.rollback();
          })
          .then(
            () => outcomes.push('committed'),
            (err: Error) => outcomes.push(err.message),
          ),
      ]);
    }
    await migrating;
    expect(alone.length).toBeGreaterThan(1);
    expect(alone.every(Boolean)).toBe(true);
    const committed = outcomes.filter((o) => o === 'committed').length;
    expect(outcomes.filter((o) => o !== 'committed').every((o) => o === 'Rollback')).toBe(true);
    expect(await count(sql`select count(*) as c from probe where who = 'app-tx'`)).toBe(
      2 * committed,
    );

    const migrations = await count(sql`select count(*) as c from graphile_worker.migrations`);
    expect(migrations).toBeGreaterThanOrEqual(19);
    await runMigrations({ pgPool, logger }); // already there: nothing to do
    expect(await count(sql`select count(*) as c from graphile_worker.migrations`)).toBe(migrations);
  });

  it('runs a job added in an app transaction as soon as it commits (LISTEN, not polling)', async () => {
    runner = await startRunner(10_000);
    await until(
      async () => ((await listeningChannels()).includes('jobs:insert') ? true : undefined),
      'the worker to listen',
    );
    expect(await listeningChannels()).toEqual(['jobs:insert', 'worker:migrate']);

    const added = Date.now();
    await handle.db.transaction(async (tx) => {
      await tx.execute(sql`select graphile_worker.add_job('t', json_build_object('n', 1))`);
      await sleep(50); // not before the commit
      expect(ran).toEqual([]);
    });
    const done = await until(() => ran.find((r) => r.n === 1), 'job 1');
    expect(done.at - added).toBeLessThan(1_000); // the poll interval is 10 s

    // As pg gives them: int8 as a string, json parsed, timestamps as Dates.
    const { job } = done;
    expect(typeof job.id).toBe('string');
    expect(job.payload).toEqual({ n: 1 });
    expect(job.run_at).toBeInstanceOf(Date);
    expect(job.attempts).toBe(1);
    expect(job.task_identifier).toBe('t');
  });

  it('never runs a job whose transaction rolled back', async () => {
    await expect(
      handle.db.transaction(async (tx) => {
        await tx.execute(sql`select graphile_worker.add_job('t', json_build_object('n', 2))`);
        tx.rollback();
      }),
    ).rejects.toThrow();
    await handle.db.execute(sql`select graphile_worker.add_job('t', json_build_object('n', 3))`);
    await until(() => ran.find((r) => r.n === 3), 'job 3');
    await sleep(50);

    expect(ran.map((r) => r.n)).toEqual([1, 3]);
    expect(await count(sql`select count(*) as c from graphile_worker.jobs`)).toBe(0);
  });

  it("keeps the app's statements and transactions apart from the worker's", async () => {
    const jobs = Array.from({ length: 9 }, (_, n) => ({ n, commit: n % 3 !== 0 }));
    for (const payload of jobs) {
      await handle.db.execute(
        sql`select graphile_worker.add_job('txn', ${JSON.stringify(payload)}::json)`,
      );
    }

    // Meanwhile the app inserts on its own and in transactions that look at the worker's rows.
    let appRows = 0;
    const appBefore = await count(sql`select count(*) as c from probe where who = 'app'`);
    const inAppTransactions: { before: number; after: number }[] = [];
    const deadline = Date.now() + 5_000;
    while (inWorkerTransactions.length < jobs.length) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the txn jobs');
      await Promise.all([
        handle.db
          .execute(sql`insert into probe (who, n) values ('app', ${appRows})`)
          .then(() => appRows++),
        handle.db.transaction(async (tx) => {
          const worker = sql`select count(*)::int as c from probe where who = 'worker'`;
          const [before] = await queryRows<{ c: number }>(tx, worker);
          await sleep(5);
          const [after] = await queryRows<{ c: number }>(tx, worker);
          inAppTransactions.push({ before: before!.c, after: after!.c });
        }),
      ]);
    }

    // No app statement ran inside a worker transaction (it would have seen the app's count
    // change), nor a worker statement inside an app transaction, nor a worker's rollback took
    // the app's rows with it.
    expect(inWorkerTransactions).toHaveLength(jobs.length);
    for (const seen of inWorkerTransactions) {
      expect(seen.after).toBe(seen.before);
      expect(seen.own).toBe(1);
    }
    for (const seen of inAppTransactions) expect(seen.after).toBe(seen.before);
    expect(appRows).toBeGreaterThan(0);
    expect(await count(sql`select count(*) as c from probe where who = 'app'`)).toBe(
      appBefore + appRows,
    );
    const committed = jobs.filter((j) => j.commit).map((j) => j.n);
    const workerRows = await queryRows<{ n: number }>(
      handle.db,
      sql`select n from probe where who = 'worker' order by n`,
    );
    expect(workerRows.map((r) => r.n)).toEqual(committed);
  });

  it('stops cleanly, leaving the database working and listening to nothing', async () => {
    await runner.stop();
    expect(await listeningChannels()).toEqual([]);
    // The pool's pg-style conversions are its own: the app's driver still parses as PGlite does.
    const [row] = await queryRows<{ big: unknown }>(handle.db, sql`select 1::int8 as big`);
    expect(row!.big).toBe(1);
  });

  describe('with a short poll interval', () => {
    let utils: WorkerUtils;
    beforeAll(async () => {
      utils = await makeWorkerUtils({ pgPool, logger });
      runner = await startRunner(50);
    });

    it('runs a job with a run_at in the future no sooner', async () => {
      const added = Date.now();
      await handle.db.execute(
        sql`select graphile_worker.add_job('t', json_build_object('n', 4), run_at := now() + interval '300 ms')`,
      );
      const done = await until(() => ran.find((r) => r.n === 4), 'job 4');
      expect(done.at - added).toBeGreaterThanOrEqual(295);
      expect(done.at - added).toBeLessThan(1_000);
    });

    it('retries a task that throws, up to max_attempts', async () => {
      const [added] = await queryRows<{ id: number }>(
        handle.db,
        sql`select id from graphile_worker.add_job('fails', json_build_object('n', 5), max_attempts := 2)`,
      );
      const id = String(added!.id);
      const state = () =>
        queryRows<{ attempts: number; last_error: string | null; later: boolean }>(
          handle.db,
          sql`select attempts, last_error, run_at > now() as later from graphile_worker.jobs
              where id = ${id} and locked_at is null`,
        ).then(([row]) => row);

      const first = await until(
        async () => ((await state())?.attempts === 1 ? await state() : undefined),
        'the first failure',
      );
      expect(first).toEqual({ attempts: 1, last_error: 'boom', later: true }); // backing off

      // Skip the back-off (e^1 s): due now, through the utils' bigint[] and timestamptz parameters.
      const [rescheduled] = await utils.rescheduleJobs([id], { runAt: new Date() });
      expect(rescheduled!.id).toBe(id);
      const second = await until(
        async () => ((await state())?.attempts === 2 ? await state() : undefined),
        'the second failure',
      );
      expect(second!.last_error).toBe('boom');
      await sleep(150); // three polls: no third attempt
      expect(attemptsOfFailing).toEqual([1, 2]);

      // Failed for good: the utils' cleanup removes it (keeping the running worker's tasks).
      await utils.forceUnlockWorkers(['no-such-worker']);
      await utils.cleanup({
        tasks: ['DELETE_PERMAFAILED_JOBS', 'GC_TASK_IDENTIFIERS', 'GC_JOB_QUEUES'],
        taskIdentifiersToKeep: Object.keys(taskList),
      });
      expect(await count(sql`select count(*) as c from graphile_worker.jobs`)).toBe(0);
    });

    it('adds jobs through the utils, and stops with the pool ended and PGlite still working', async () => {
      const job = await utils.addJob('t', { n: 6 });
      expect(typeof job.id).toBe('string');
      await until(() => ran.find((r) => r.n === 6), 'job 6');

      await runner.stop();
      await utils.release();
      await pgPool.end();
      expect(await listeningChannels()).toEqual([]);
      expect(await count(sql`select count(*) as c from probe`)).toBeGreaterThan(0);
      expect(errors.filter((e) => !/boom/.test(e))).toEqual([]);
    });
  });
});
