// A multi-host DATABASE_URL when the primary does not die but turns read-only (fenced with
// default_transaction_read_only, as a switchover does before promoting the standby): the pooled
// connections to it answer "cannot execute ... in a read-only transaction" (25006). They must be
// dropped and the new primary used, by both drivers (postgres.js for the app, node-postgres for
// the job queue), without reopening anything.
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  isDatabaseUnavailable,
  openDatabase,
  queryRows,
  type DatabaseHandle,
} from '../../src/db/client.js';
import { startPrimaryWithStandby, type PrimaryWithStandby } from '../support/postgres-standby.js';
import { createDatabase } from '../support/services.js';

const postgresUrl = inject('postgresUrl');
/** The first error code along an error's causes (drizzle wraps the driver's). */
function codeOf(err: unknown): string {
  for (let e = err; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return '';
}
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let pair: PrimaryWithStandby | undefined;
let database: DatabaseHandle | undefined;
afterAll(async () => {
  await database?.close();
  await pair?.stop();
});

describe.skipIf(!postgresUrl)('following the primary of a multi-host URL', () => {
  let oldPrimaryUrl: string;
  let newPrimaryUrl: string;
  let dbName: string;

  beforeAll(async () => {
    pair = (await startPrimaryWithStandby({ synchronous: false }))!;
    const created = new URL(await createDatabase(pair.primary.url));
    dbName = created.pathname.slice(1);
    oldPrimaryUrl = created.toString();
    newPrimaryUrl = `postgres://postgres@127.0.0.1:${pair.standby.port}/${dbName}`;
    const url = `postgres://postgres@127.0.0.1:${created.port},127.0.0.1:${pair.standby.port}/${dbName}?target_session_attrs=read-write`;
    database = await openDatabase({ url, statementTimeoutMs: 5_000, poolSize: 4 });
  }, 60_000);

  /** Client connections to `url`'s database other than the asking one. */
  async function connectionsTo(url: string): Promise<number> {
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const [row] = await admin<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity
        where datname = ${dbName} and pid <> pg_backend_pid() and backend_type = 'client backend'
          and application_name <> 'parley-probe'`;
      return row!.n;
    } finally {
      await admin.end({ timeout: 1 });
    }
  }

  it('drops the connections to a primary that turned read-only and writes on the promoted standby', async () => {
    const db = database!.db;
    await db.execute(sql`create table failover_probe (note text)`);
    // Fill the pools: four app connections and two of the job queue's, all on the primary.
    await Promise.all(Array.from({ length: 4 }, () => db.execute(sql`select pg_sleep(0.05)`)));
    const jobs = database!.openJobPool(2);
    jobs.on('error', () => undefined);
    try {
      await Promise.all([jobs.query('select pg_sleep(0.05)'), jobs.query('select pg_sleep(0.05)')]);
      expect(await connectionsTo(oldPrimaryUrl)).toBe(6);

      // Fence the primary (read-only for every session, the open ones too), then promote.
      const admin = postgres(pair!.primary.url, { max: 1, onnotice: () => {} });
      await admin`alter system set default_transaction_read_only = on`;
      await admin`select pg_reload_conf()`;
      await admin.end({ timeout: 1 });
      await pair!.standby.promote();

      // The app retries what failed as "database away" (a read-only answer counts as that).
      const refusals: string[] = [];
      const write = async (note: string, run: () => Promise<unknown>) => {
        for (let attempt = 0; ; attempt++) {
          try {
            await run();
            return;
          } catch (err) {
            expect(isDatabaseUnavailable(err), String(err)).toBe(true);
            refusals.push(note);
            expect(attempt, `${note} never succeeded`).toBeLessThan(50);
            await sleep(100);
          }
        }
      };
      await write('app', () => db.execute(sql`insert into failover_probe values ('app')`));
      await write('jobs', () => jobs.query(`insert into failover_probe values ('jobs')`));

      const onNew = postgres(newPrimaryUrl, { max: 1, onnotice: () => {} });
      try {
        const rows = await onNew<{ note: string }[]>`select note from failover_probe order by 1`;
        expect(rows.map((r) => r.note)).toEqual(['app', 'jobs']);
      } finally {
        await onNew.end({ timeout: 1 });
      }
      // Nothing is left on the fenced server: every pooled connection to it was closed.
      for (let attempt = 0; (await connectionsTo(oldPrimaryUrl)) > 0; attempt++) {
        expect(attempt, 'connections to the read-only server were kept').toBeLessThan(30);
        await sleep(100);
      }
      const [row] = await queryRows<{ standby: boolean }>(
        db,
        sql`select pg_is_in_recovery() as standby`,
      );
      expect(row!.standby).toBe(false);
      console.log(
        `[read-only primary] writes refused before the new primary was used: ${refusals.length}`,
      );
    } finally {
      await jobs.end();
    }
  });

  it('fails a write within seconds while no server accepts writes, and writes again once one does', async () => {
    const db = database!.db;
    const fence = async (on: boolean) => {
      const admin = postgres(newPrimaryUrl, { max: 1, onnotice: () => {} });
      try {
        if (on) await admin`alter system set default_transaction_read_only = on`;
        else await admin`alter system reset default_transaction_read_only`;
        await admin`select pg_reload_conf()`;
      } finally {
        await admin.end({ timeout: 1 });
      }
    };
    await fence(true);
    try {
      // Writes meet the read-only server, then wait for a primary: each fails, in bounded time,
      // as "database away", until one has waited the whole search (NO_PRIMARY).
      const codes: string[] = [];
      while (!codes.includes('NO_PRIMARY')) {
        const started = Date.now();
        const failure = await db.execute(sql`insert into failover_probe values ('none')`).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(failure, 'a write succeeded with no server accepting writes').toBeDefined();
        expect(isDatabaseUnavailable(failure), String(failure)).toBe(true);
        // A deadline, not a wait without end (postgres.js's own multi-host loop has none).
        expect(Date.now() - started).toBeLessThan(8_000);
        codes.push(codeOf(failure));
        expect(codes.length, codes.join()).toBeLessThan(20);
      }
    } finally {
      await fence(false);
    }
    for (let attempt = 0; ; attempt++) {
      const ok = await db.execute(sql`insert into failover_probe values ('back')`).then(
        () => true,
        () => false,
      );
      if (ok) break;
      expect(attempt, 'no write succeeded once the server took writes again').toBeLessThan(100);
      await sleep(100);
    }
  });
});
