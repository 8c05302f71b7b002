// One database interface over two drivers: postgres.js for PostgreSQL (production) and PGlite
// (embedded). Both speak the same SQL and run the same migrations and queries.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { Logger } from 'drizzle-orm/logger';
import { PgDialect, type PgDatabase, type PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import pg from 'pg';
import postgres from 'postgres';
import { pglitePool } from './pglite-pool.js';
import type { DatabaseHost } from './primary.js';
import { openServers, type Servers } from './servers.js';
import * as schema from './schema.js';

export type Schema = typeof schema;
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];
/** Either the database or an open transaction: queries take this so they compose into one. */
export type Executor = Database | Tx;

interface DatabaseHandleCommon {
  readonly db: Database;
  /** Cheap round trip, for readiness checks. */
  ping(): Promise<void>;
  /** A pg.Pool for the job queue (graphile-worker): its own connections, or PGlite's session. */
  openJobPool(size: number): pg.Pool;
  close(): Promise<void>;
}

export type DatabaseHandle =
  | (DatabaseHandleCommon & { readonly kind: 'postgres' })
  | (DatabaseHandleCommon & {
      readonly kind: 'pglite';
      /**
       * The one embedded PostgreSQL session. What must share it rather than open a connection
       * of its own (the job queue's pool, src/db/pglite-pool.ts) is built on it.
       */
      readonly pglite: PGlite;
    });

export interface OpenDatabaseOptions {
  /** postgres:// URL; unset → PGlite. */
  url?: string | undefined;
  /**
   * Where migrations and the job queue connect (they need a session: an advisory lock, LISTEN);
   * unset → `url`. See Config.databaseDirectUrl.
   */
  directUrl?: string | undefined;
  /** `transaction`: `url` is a transaction pooler (see Config.databasePooler). */
  pooler?: 'none' | 'transaction' | undefined;
  /** PGlite data folder; unset (with no url) → in memory. */
  dataDir?: string | undefined;
  statementTimeoutMs: number;
  poolSize?: number;
  /** PGlite's shared_buffers, in MB (see Config.embeddedSharedBuffersMb); unset → 16. */
  sharedBuffersMb?: number | undefined;
  /** Called with every statement the application issues (for tests that count them). */
  onQuery?: (sql: string) => void;
  /**
   * The migrations to apply; unset → all of drizzle/. Tests of a migration open a database
   * at the one before it with a folder holding only the earlier ones.
   */
  migrationsFolder?: string | undefined;
  /**
   * Told when a URL with several servers has a primary (at start, and a new one after a
   * failover), or none for now (`previous`: the one before).
   */
  onPrimaryChange?: (primary: DatabaseHost | undefined, previous: DatabaseHost | undefined) => void;
}

const migrationsFolder = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'drizzle',
);

// Held while migrating so N instances starting at once do not race (duplicate pg_type errors).
const MIGRATION_LOCK_KEY = 7_362_110_001;

function queryLogger(onQuery?: (sql: string) => void): Logger | undefined {
  return onQuery ? { logQuery: (query) => onQuery(query) } : undefined;
}

/**
 * Seconds before postgres.js dials a lost connection again. Its default grows pool-wide up to
 * 20 s after an outage, with queries waiting meanwhile: retry quickly instead, so a restarted
 * database (or replica) is back in use within a fraction of a second.
 */
export const reconnectBackoff = (attempt: number): number => Math.min(0.05 * 2 ** attempt, 0.5);

export async function openDatabase(opts: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const logger = queryLogger(opts.onQuery);
  if (opts.url) {
    const servers = serversOf(opts.url, opts.onPrimaryChange);
    // What needs a session of its own (the migrations' advisory lock, the job queue's LISTEN)
    // goes around a transaction pooler: DATABASE_DIRECT_URL (the same servers when unset).
    const direct =
      opts.directUrl && opts.directUrl !== opts.url ? serversOf(opts.directUrl) : servers;
    await migrateWithLock(opts.directUrl ?? opts.url, direct, opts.migrationsFolder);
    const client = servers.watch(
      postgres(servers.url, {
        ...servers.postgresOptions,
        max: opts.poolSize ?? 10,
        onnotice: () => {},
        ...sessionOptions(opts),
        connect_timeout: 5,
        backoff: reconnectBackoff,
      }),
    );
    const db = drizzlePostgres({ client, schema, ...(logger ? { logger } : {}) }) as Database;
    return {
      db,
      kind: 'postgres',
      ping: () =>
        withTimeout(
          client`select 1`.then(() => undefined),
          1_000,
        ),
      openJobPool: (size) =>
        new pg.Pool({
          ...direct.pgPoolOptions,
          connectionString: direct.url,
          max: size,
          statement_timeout: opts.statementTimeoutMs,
          connectionTimeoutMillis: 5_000,
        }),
      close: async () => {
        servers.close();
        if (direct !== servers) direct.close();
        await client.end({ timeout: 5 });
      },
    };
  }

  const options = pgliteOptions(opts.sharedBuffersMb ?? 16);
  if (opts.dataDir) {
    mkdirSync(opts.dataDir, { recursive: true });
    if (!existsSync(path.join(opts.dataDir, 'PG_VERSION')))
      await initDataDir(opts.dataDir, options);
  }
  // pg_trgm for searchMessages (drizzle/0012); the data folder's creation above needs none.
  const withExtensions = { ...options, extensions: { pg_trgm } };
  const client = opts.dataDir
    ? new PGlite(opts.dataDir, withExtensions)
    : new PGlite(withExtensions);
  await client.waitReady;
  await client.exec(`set statement_timeout = ${Math.trunc(opts.statementTimeoutMs)}`);
  const migrationDb = drizzlePglite({ client, schema });
  await migratePglite(migrationDb, { migrationsFolder: opts.migrationsFolder ?? migrationsFolder });
  const db = drizzlePglite({
    client,
    schema,
    ...(logger ? { logger } : {}),
  }) as unknown as Database;
  return {
    db,
    kind: 'pglite',
    pglite: client,
    ping: async () => {
      await client.query('select 1');
    },
    openJobPool: () => pglitePool(client),
    close: () => client.close(),
  };
}

/**
 * What the pool's connections keep between statements. Directly on PostgreSQL: prepared
 * statements (parsed once per connection) and the statement timeout, sent as a startup
 * parameter. Behind a transaction pooler each transaction may run on another server connection,
 * so neither: statements go unnamed (postgres.js `prepare: false`, which also makes drizzle's
 * named ones and preparedStatement's unnamed), and the timeout must come from the database
 * role or the pooler (PgBouncer refuses unknown startup parameters). See pooledStatementTimeout.
 */
function sessionOptions(opts: OpenDatabaseOptions): postgres.Options<Record<string, never>> {
  if (opts.pooler === 'transaction') return { prepare: false };
  return { connection: { statement_timeout: opts.statementTimeoutMs } };
}

/**
 * The statement timeout the pool's statements run under ('0' is none): behind a transaction
 * pooler it is whatever the role, database or pooler sets (main.ts warns when it is none).
 */
export async function pooledStatementTimeout(db: Executor): Promise<string> {
  const rows = await queryRows<{ statement_timeout: string }>(db, sql`show statement_timeout`);
  return rows[0]?.statement_timeout ?? '0';
}

/**
 * What to do about an error that says DATABASE_URL is a pooler that refuses session state:
 * PgBouncer refuses the startup parameters it does not know (the migrations' `options`, the
 * pool's `statement_timeout`) with SQLSTATE 08P01 and this text.
 */
export function poolerHint(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && /unsupported startup parameter/i.test(message)) {
      return 'DATABASE_URL looks like a connection pooler (PgBouncer) that refuses session settings: in pool_mode=transaction set DATABASE_POOLER=transaction and DATABASE_DIRECT_URL (README "Running at scale").';
    }
  }
  return undefined;
}

/**
 * PGlite runs PostgreSQL in one WebAssembly memory that never shrinks, and its shared_buffers
 * (128 MB as initdb writes them) are all touched at start, so they are resident for the life of
 * the process. The embedded default is far smaller, with the operating system's file cache
 * behind it. A command-line setting overrides postgresql.conf (PGlite's `postgresqlconf` option
 * would replace the file initdb wrote). WebAssembly memory starts at PGlite's floor already
 * (128 MB, `initialMemory` cannot go lower) and is only resident where touched.
 */
function pgliteOptions(sharedBuffersMb: number): PGliteOptions {
  return {
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${sharedBuffersMb}MB`],
  };
}

const requireHere = createRequire(import.meta.url);
const execFileAsync = promisify(execFile);

/**
 * Creates a PGlite data folder in a child process. A first start runs initdb in two more
 * WebAssembly instances (a scratch PostgreSQL and initdb itself) whose memories, about 450 MB,
 * are garbage afterwards but stay resident until a full collection that an idle server may never
 * run. A worker thread would take them away on exit but leave its malloc arena (~60 MB) behind;
 * a process gives everything back. Plain JavaScript, so it needs no TypeScript loader.
 */
async function initDataDir(dataDir: string, options: PGliteOptions): Promise<void> {
  const script = `const [pglite, dataDir, options] = process.argv.slice(1);
    const { PGlite } = require(pglite);
    const db = new PGlite(dataDir, JSON.parse(options));
    db.waitReady.then(() => db.close()).catch((err) => { console.error(err); process.exit(1); });`;
  const pglite = requireHere.resolve('@electric-sql/pglite');
  try {
    const args = ['-e', script, pglite, dataDir, JSON.stringify(options)];
    await execFileAsync(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    const reason = stderr || String(err);
    throw new Error(`could not create the embedded database in ${dataDir}: ${reason}`, {
      cause: err,
    });
  }
}

/** The URL's servers (several: a primary and standbys, followed by src/db/primary.ts). */
function serversOf(url: string, onChange?: OpenDatabaseOptions['onPrimaryChange']): Servers {
  return openServers(url, {
    ...(onChange ? { onChange } : {}),
    isReadOnly: (err) => pgErrorCode(err) === READ_ONLY_TRANSACTION,
  });
}

/** Applies pending migrations under an advisory lock on a dedicated connection. */
export async function migrateWithLock(
  url: string,
  given?: Servers,
  folder = migrationsFolder,
): Promise<void> {
  const servers = given ?? serversOf(url);
  // A migration may take long: not cut off by a timeout the role or database sets for the
  // pooled connections (README "Running at scale", behind a transaction pooler). As `options`
  // because postgres.js leaves out a parameter whose value is falsy (statement_timeout: 0).
  const conn = postgres(servers.url, {
    ...servers.postgresOptions,
    max: 1,
    onnotice: () => {},
    connection: { options: '-c statement_timeout=0' },
  });
  try {
    await conn`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      await migratePostgres(drizzlePostgres({ client: conn }), { migrationsFolder: folder });
    } finally {
      await conn`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    }
  } finally {
    await conn.end({ timeout: 5 });
    if (!given) servers.close();
  }
}

/** Rejects when `work` takes longer than `ms` (a readiness probe must answer, not wait). */
function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Runs raw SQL and returns its rows, whichever driver is underneath. */
export async function queryRows<T>(db: Executor, query: SQL): Promise<T[]> {
  const result: unknown = await db.execute(query);
  if (Array.isArray(result)) return result as T[];
  return (result as { rows: T[] }).rows;
}

/**
 * Values as one array parameter. Batched lookups use these (`= any(...)`, `unnest(...)`) rather
 * than a list of N parameters, so the statement text, and the plan prepared for it, is the same
 * whatever the batch size.
 */
type ArrayType = 'uuid' | 'int' | 'bigint' | 'text' | 'timestamptz';

export function pgArray(values: readonly (string | number)[], type: ArrayType): SQL {
  return sql`${arrayLiteral(values)}::${sql.raw(type)}[]`;
}

/** `(a, b) in` these pairs, given as one array parameter per column (see pgArray). */
export function pairIn<T>(
  columns: readonly [SQLWrapper, SQLWrapper],
  pairs: readonly T[],
  first: readonly [(pair: T) => string | number, ArrayType],
  second: readonly [(pair: T) => string | number, ArrayType],
): SQL {
  const [a, b] = columns;
  return sql`(${a}, ${b}) in (select * from unnest(${pgArray(pairs.map(first[0]), first[1])}, ${pgArray(pairs.map(second[0]), second[1])}))`;
}

/**
 * PostgreSQL's text form of an array, every element quoted (so "NULL" stays a string); a null
 * element is NULL.
 */
export function arrayLiteral(values: readonly (string | number | null)[]): string {
  const element = (v: string | number | null) =>
    v === null ? 'NULL' : `"${String(v).replace(/[\\"]/g, '\\$&')}"`;
  return `{${values.map(element).join(',')}}`;
}

/**
 * A query built once per executor and from then on only executed (drizzle otherwise builds the
 * SQL text again on every call); values come in through `sql.placeholder`. Inside a transaction
 * it is built for that transaction.
 */
export function prepareOnce<T>(build: (db: Executor) => T): (db: Executor) => T {
  const built = new WeakMap<Executor, T>();
  return (db) => {
    let query = built.get(db);
    if (query === undefined) {
      query = build(db);
      built.set(db, query);
    }
    return query;
  };
}

const dialect = new PgDialect();

/**
 * A statement written in SQL, prepared once per executor under `name`, its rows (arrays of
 * values, in select order) turned into the result by `fromRows`; values come in through
 * `sql.placeholder`. Unlike `db.execute`, whose unnamed statement postgres.js first sends to be
 * described and only then to be run (two round trips, parsed and planned every time), a named one
 * is parsed once per connection and then runs in one round trip.
 */
export function preparedStatement<R>(
  name: string,
  query: SQL,
  fromRows: (rows: unknown[][]) => R,
): (db: Executor) => { execute(values: Record<string, unknown>): Promise<R> } {
  const built = dialect.sqlToQuery(query);
  return prepareOnce((db) =>
    db._.session.prepareQuery<{ execute: R; all: unknown; values: unknown }>(
      built,
      undefined,
      name,
      true,
      fromRows,
    ),
  );
}

/** The SQLSTATE of a database error, looking through drizzle's wrapper. */
export function pgErrorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export const UNIQUE_VIOLATION = '23505';
/** A write refused by a server that is read-only (a standby, a demoted or fenced primary). */
export const READ_ONLY_TRANSACTION = '25006';

/**
 * The constraint (or unique index) a database error names, looking through drizzle's wrapper:
 * postgres.js calls it `constraint_name`, PGlite `constraint`.
 */
export function pgConstraint(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current; depth++) {
    const e = current as { constraint_name?: unknown; constraint?: unknown };
    const name = e.constraint_name ?? e.constraint;
    if (typeof name === 'string' && name !== '') return name;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

// postgres.js's own codes for a connection that is gone or never came, and Node's socket errors.
const CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  // src/db/primary.ts: none of several servers accepts writes (a failover in progress).
  'NO_PRIMARY',
]);

/**
 * Whether an error means the database is away for now (restarting, unreachable, shutting
 * down), rather than that the statement is wrong: worth waiting for and trying again.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (CONNECTION_CODES.has(code)) return true;
      // Connection exceptions, and the server shutting down or starting up.
      if (/^08[0-9A-Z]{3}$/.test(code) || /^57P0[1-3]$/.test(code)) return true;
      // A server that is read-only now (a demoted primary): the primary is elsewhere, soon.
      if (code === READ_ONLY_TRANSACTION) return true;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
