// A node-postgres pool over the one embedded PGlite instance, for graphile-worker (`pgPool` of
// `run`, `runMigrations` and `makeWorkerUtils`), which in production gets a real `pg.Pool`.
//
// Exclusivity. PGlite is one PostgreSQL session behind two mutexes: `query`/`exec` take the
// "transaction" mutex, then the "query" mutex, for one statement; `transaction(cb)` holds the
// transaction mutex for the whole callback, and its `tx` handle takes only the query mutex.
// Drizzle over PGlite (src/db/client.ts) uses exactly these, and so do the clients here, which
// are virtual (as many as asked for):
//  - outside a transaction a client's statement goes through `pglite.query` (with parameters)
//    or `pglite.exec` (without: several statements allowed, as in pg's simple protocol), so
//    single statements from the app and from every client interleave freely;
//  - a statement that is just `begin` / `start transaction` opens `pglite.transaction()` and
//    keeps its callback waiting: the client's statements go through `tx`, nobody else's run,
//    until the client sends `commit` (PGlite commits) or `rollback`, or is released (rolled
//    back). The app's transactions are exclusive in the same way.
// Hence a transaction on a client must not wait for other database work (the app's, another
// client's): that work waits for the transaction, a deadlock separate connections would not
// have. Transaction control must be a statement of its own, as graphile-worker sends it. (PGlite's
// own `@electric-sql/pglite/node-postgres` shim forwards protocol messages one at a time with no
// such exclusivity, and gives a pool of one connection, which graphile-worker's LISTEN holds.)
//
// LISTEN / UNLISTEN statements (alone, or several in one text) become `pglite.listen` /
// `unlisten` with a callback per client that emits pg's 'notification'; PGlite counts callbacks
// per channel, so the app's own listeners are unaffected. Released clients stop listening.
//
// Values are converted as node-postgres converts them, by its own code: parameters through pg's
// `prepareValue` (Dates as local time with offset, arrays as array literals, objects as JSON,
// Buffers as bytea) and sent as text; columns come from PGlite as raw text and go through pg's
// type parsers (`pg.types`, so a `setTypeParser` in the process applies): int8 and numeric as
// strings, json parsed, timestamps and dates as Dates, bytea as Buffer, intervals as pg's
// objects. Results have `rows`, `rowCount` (null for commands without a count), `command` and
// `fields` (`name`, `dataTypeID`); a multi-statement text gives an array of results, as in pg.
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import {
  TransactionAbortedError,
  type PGlite,
  type QueryOptions,
  type Results,
  type Transaction,
} from '@electric-sql/pglite';
import pg from 'pg';
import type { Notification, Pool } from 'pg';

// pg's own conversion of a parameter to its text form (lib/utils.js, exported by pg's package
// "exports"; @types/pg does not describe it).
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as {
  prepareValue(value: unknown): string | Buffer | null;
};

type TypeParser = (text: string) => unknown;
interface TypeSource {
  getTypeParser(oid: number, format: 'text'): TypeParser;
}
type Callback = (err: Error | null, result?: unknown) => void;

interface QueryInput {
  text: string;
  values: unknown[] | undefined;
  rowMode: 'array' | undefined;
  types: TypeSource | undefined;
}

/** A result as pg gives it: `rows`, `rowCount`, `command`, `fields`. */
interface PgResult {
  command: string;
  rowCount: number | null;
  oid: null;
  rows: unknown[];
  fields: { name: string; dataTypeID: number; format: 'text' }[];
}

/**
 * Wraps the embedded PGlite instance as the node-postgres `Pool` that graphile-worker takes as
 * `pgPool`. It implements what graphile-worker 0.17 uses of pg's Pool and PoolClient (see the
 * top of this file): `connect()` (promise and callback forms), `query`, `end`, the 'error',
 * 'connect', 'acquire' and 'release' events; clients' `query` (text and values, or a config
 * object with `text`, `values`, `rowMode`, `types`; `name` is ignored), `release(err?)`,
 * 'notification', 'notice' and 'error' events, `escapeIdentifier`, `escapeLiteral`. Not: COPY,
 * cursors (submittables), binary results. `end()` waits for checked-out clients to be released;
 * it does not close PGlite, which belongs to the app.
 */
export function pglitePool(pglite: PGlite): Pool {
  return new PglitePool(pglite) as unknown as Pool;
}

class PglitePool extends EventEmitter {
  readonly pglite: PGlite;
  /** graphile-worker warns when `options.max` is below its concurrency: clients here are virtual. */
  readonly options = { max: Number.POSITIVE_INFINITY };
  readonly #clients = new Set<PgliteClient>();
  readonly #cleanups = new Set<Promise<void>>();
  #ending = false;
  #drained: (() => void) | undefined;

  constructor(pglite: PGlite) {
    super();
    this.pglite = pglite;
  }

  get totalCount(): number {
    return this.#clients.size;
  }
  get idleCount(): number {
    return 0;
  }
  get waitingCount(): number {
    return 0;
  }
  get expiredCount(): number {
    return 0;
  }
  get ending(): boolean {
    return this.#ending;
  }
  get ended(): boolean {
    return this.#ending && this.#clients.size === 0 && this.#cleanups.size === 0;
  }

  connect(): Promise<PgliteClient>;
  connect(
    callback: (
      err: Error | undefined,
      client: PgliteClient | undefined,
      done: (release?: unknown) => void,
    ) => void,
  ): void;
  connect(
    callback?: (
      err: Error | undefined,
      client: PgliteClient | undefined,
      done: (release?: unknown) => void,
    ) => void,
  ): Promise<PgliteClient> | void {
    const connected = this.#connect();
    if (!callback) return connected;
    connected.then(
      (client) => callback(undefined, client, (err) => client.release(err)),
      (err: Error) => callback(err, undefined, () => {}),
    );
  }

  async #connect(): Promise<PgliteClient> {
    if (this.#ending) throw new Error('Cannot use a pool after calling end on the pool');
    await this.pglite.waitReady;
    if (this.pglite.closed) throw new Error('PGlite is closed');
    const client = new PgliteClient(this);
    this.#clients.add(client);
    this.emit('connect', client);
    this.emit('acquire', client);
    return client;
  }

  query(config: unknown, values?: unknown, callback?: Callback): Promise<unknown> | void {
    const cb = typeof values === 'function' ? (values as Callback) : callback;
    const vals = typeof values === 'function' ? undefined : values;
    const done = (async () => {
      const client = await this.#connect();
      try {
        return await client.query(config, vals);
      } finally {
        client.release();
      }
    })();
    if (!cb) return done;
    done.then(
      (result) => cb(null, result),
      (err: Error) => cb(err),
    );
  }

  async end(): Promise<void> {
    if (this.#ending) throw new Error('Called end on pool more than once');
    this.#ending = true;
    if (this.ended) return;
    await new Promise<void>((resolve) => (this.#drained = resolve));
  }

  /** A client came back: its cleanup (rollback, unlisten) runs after its queued statements. */
  released(client: PgliteClient, err: unknown, cleanup: Promise<void>): void {
    this.#clients.delete(client);
    this.#cleanups.add(cleanup);
    this.emit('release', err, client);
    void cleanup
      .catch((error: unknown) => {
        if (this.listenerCount('error') > 0) this.emit('error', error, client);
      })
      .finally(() => {
        this.#cleanups.delete(cleanup);
        if (this.ended) this.#drained?.();
      });
  }
}

/** A transaction a client opened: PGlite's `tx` handle, and how to end it. */
interface OpenTransaction {
  tx: Transaction;
  finish: (action: 'commit' | 'rollback') => void;
  done: Promise<void>;
}

class PgliteClient extends EventEmitter {
  /** pg's backend process id: PGlite has one session and does not tell. */
  readonly processID = 0;
  readonly #pool: PglitePool;
  readonly #pglite: PGlite;
  #transaction: OpenTransaction | undefined;
  /** Statements run one after another in the order given, as on a pg connection. */
  #queue: Promise<unknown> = Promise.resolve();
  #released = false;
  /** Channels this client listens on, by name, with the callback given to PGlite. */
  readonly #channels = new Map<string, (payload: string) => void>();

  constructor(pool: PglitePool) {
    super();
    this.#pool = pool;
    this.#pglite = pool.pglite;
  }

  query(config: unknown, values?: unknown, callback?: Callback): Promise<unknown> | void {
    const cb = typeof values === 'function' ? (values as Callback) : callback;
    const vals = typeof values === 'function' ? undefined : values;
    const result = this.#released
      ? Promise.reject(new Error('Client was released and is not queryable'))
      : this.#enqueue(() => this.#run(normalize(config, vals)).catch(asPgError));
    if (!cb) return result;
    result.then(
      (r) => cb(null, r),
      (err: Error) => cb(err),
    );
  }

  release(err?: unknown): void {
    if (this.#released) {
      throw new Error('Release called on client which has already been released to the pool.');
    }
    this.#released = true;
    const cleanup = this.#enqueue(async () => {
      if (this.#pglite.closed) return;
      if (this.#transaction) await this.#end('rollback');
      for (const channel of [...this.#channels.keys()]) await this.#unlisten(channel);
    });
    this.#pool.released(this, err, cleanup);
  }

  escapeIdentifier(value: string): string {
    return pg.escapeIdentifier(value);
  }

  escapeLiteral(value: string): string {
    return pg.escapeLiteral(value);
  }

  #enqueue<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(work);
    this.#queue = result.catch(() => {});
    return result;
  }

  async #run(input: QueryInput): Promise<PgResult | PgResult[]> {
    const { text } = input;
    if (!this.#transaction) {
      const begin = BEGIN.exec(text);
      if (begin) return this.#begin(begin.groups?.modes?.trim() ?? '');
    } else if (COMMIT.test(text)) {
      return this.#end('commit');
    } else if (ROLLBACK.test(text)) {
      return this.#end('rollback');
    }
    const listens = parseListens(text);
    if (listens) return this.#runListens(listens);

    const target = this.#transaction?.tx ?? this.#pglite;
    const options: QueryOptions = {
      rowMode: 'array',
      parsers: rawText(this.#pglite.parsers),
      onNotice: (notice) => this.emit('notice', notice),
    };
    if (input.values === undefined || input.values.length === 0) {
      const results = await target.exec(text, options);
      const converted = results.map((r) => toPgResult(r, input));
      return converted.length === 1 ? converted[0]! : converted;
    }
    const values = input.values.map(toText);
    options.serializers = rawText(this.#pglite.serializers);
    return toPgResult(await target.query(text, values, options), input);
  }

  async #begin(modes: string): Promise<PgResult> {
    let opened!: (tx: Transaction) => void;
    const ready = new Promise<Transaction>((resolve) => (opened = resolve));
    let finish!: (action: 'commit' | 'rollback') => void;
    const ending = new Promise<'commit' | 'rollback'>((resolve) => (finish = resolve));
    const done = this.#pglite.transaction(async (tx) => {
      opened(tx);
      if ((await ending) === 'rollback' && !tx.closed) await tx.rollback();
    });
    done.catch(() => {}); // awaited by #end; this only keeps an early failure from going unhandled
    const tx = await Promise.race([
      ready,
      done.then(() => Promise.reject(new Error('transaction ended before it began'))),
    ]);
    this.#transaction = { tx, finish, done };
    if (modes) {
      // `begin isolation level …`: PGlite's BEGIN is bare, so the modes follow; if they are
      // wrong the transaction does not stay open, as the BEGIN would have failed.
      try {
        await tx.exec(`set transaction ${modes}`);
      } catch (err) {
        await this.#end('rollback').catch(() => {});
        throw err;
      }
    }
    return commandResult('BEGIN');
  }

  async #end(action: 'commit' | 'rollback'): Promise<PgResult> {
    const { finish, done } = this.#transaction!;
    this.#transaction = undefined;
    finish(action);
    try {
      await done;
    } catch (err) {
      // COMMIT of a failed transaction rolls back: pg reports that as a ROLLBACK, not an error.
      if (action === 'commit' && err instanceof TransactionAbortedError) {
        return commandResult('ROLLBACK');
      }
      throw err;
    }
    return commandResult(action === 'commit' ? 'COMMIT' : 'ROLLBACK');
  }

  async #runListens(listens: Listen[]): Promise<PgResult | PgResult[]> {
    const results: PgResult[] = [];
    for (const { command, channel } of listens) {
      if (command === 'LISTEN') await this.#listen(channel);
      else if (channel === '*') {
        for (const listened of [...this.#channels.keys()]) await this.#unlisten(listened);
      } else await this.#unlisten(channel);
      results.push(commandResult(command));
    }
    return results.length === 1 ? results[0]! : results;
  }

  async #listen(channel: string): Promise<void> {
    if (this.#channels.has(channel)) return;
    const callback = (payload: string) => {
      if (this.#released || !this.#channels.has(channel)) return;
      const notification: Notification = { processId: 0, channel, payload };
      this.emit('notification', notification);
    };
    this.#channels.set(channel, callback);
    try {
      await this.#pglite.listen(quoteChannel(channel), callback, this.#transaction?.tx);
    } catch (err) {
      this.#channels.delete(channel);
      throw err;
    }
  }

  async #unlisten(channel: string): Promise<void> {
    const callback = this.#channels.get(channel);
    if (!callback) return;
    this.#channels.delete(channel);
    await this.#pglite.unlisten(quoteChannel(channel), callback, this.#transaction?.tx);
  }
}

// Transaction control, as a statement of its own.
const BEGIN =
  /^\s*(?:begin\b(?:\s+(?:work|transaction)\b)?|start\s+transaction\b)(?<modes>[^;]*?)\s*;?\s*$/i;
const COMMIT = /^\s*(?:commit|end)(?:\s+(?:work|transaction))?\s*;?\s*$/i;
const ROLLBACK = /^\s*(?:rollback|abort)(?:\s+(?:work|transaction))?\s*;?\s*$/i;

interface Listen {
  command: 'LISTEN' | 'UNLISTEN';
  /** The channel's name as PostgreSQL has it (unquoted, case folded), or '*'. */
  channel: string;
}

const LISTEN_STATEMENT =
  /\s*(listen|unlisten)\s+("(?:[^"]|"")+"|[a-z_\u0080-\uffff][\w$\u0080-\uffff]*|\*)\s*(?:;|$)/iy;

/** The statements of a text made only of LISTEN / UNLISTEN statements; otherwise undefined. */
function parseListens(text: string): Listen[] | undefined {
  const listens: Listen[] = [];
  LISTEN_STATEMENT.lastIndex = 0;
  while (!/^\s*$/.test(text.slice(LISTEN_STATEMENT.lastIndex))) {
    const match = LISTEN_STATEMENT.exec(text);
    if (!match) return undefined;
    const command = match[1]!.toUpperCase() as Listen['command'];
    const name = match[2]!;
    if (name === '*' && command === 'LISTEN') return undefined; // a syntax error: PostgreSQL says so
    const channel = name.startsWith('"')
      ? name.slice(1, -1).replace(/""/g, '"')
      : name === '*'
        ? name
        : name.toLowerCase();
    listens.push({ command, channel });
  }
  return listens.length > 0 ? listens : undefined;
}

/** PGlite's listen/unlisten take the channel as SQL writes it and key callbacks by its name. */
function quoteChannel(channel: string): string {
  return `"${channel}"`;
}

function normalize(config: unknown, values: unknown): QueryInput {
  if (typeof config === 'string') {
    return { text: config, values: asValues(values), rowMode: undefined, types: undefined };
  }
  if (config && typeof config === 'object' && 'text' in config) {
    const c = config as { text: string; values?: unknown; rowMode?: string; types?: TypeSource };
    if (typeof (config as { submit?: unknown }).submit === 'function') {
      throw new TypeError('submittable queries (cursors, COPY) are not supported over PGlite');
    }
    return {
      text: c.text,
      values: asValues(values ?? c.values),
      rowMode: c.rowMode === 'array' ? 'array' : undefined,
      types: c.types,
    };
  }
  throw new TypeError('query takes a text or a config object with a text');
}

function asValues(values: unknown): unknown[] | undefined {
  if (values === undefined || values === null) return undefined;
  if (!Array.isArray(values)) throw new TypeError('query values must be an array');
  return values;
}

/** A parameter in the text form pg would send it in (Buffers as bytea's hex form). */
function toText(value: unknown): string | null {
  const prepared = prepareValue(value);
  if (prepared === null) return null;
  if (typeof prepared === 'string') return prepared;
  return `\\x${prepared.toString('hex')}`;
}

const asIs = (text: string) => text;

/** Leaves every type PGlite knows as text, both ways: pg's conversions do the work. */
function rawText(known: Record<string, unknown>): Record<string, (text: string) => string> {
  return Object.fromEntries(Object.keys(known).map((oid) => [oid, asIs]));
}

function toPgResult(result: Results<unknown>, input: QueryInput): PgResult {
  const types = input.types ?? pg.types;
  const fields = result.fields.map((f) => ({
    name: f.name,
    dataTypeID: f.dataTypeID,
    format: 'text' as const,
  }));
  const parsers = result.fields.map((f) => types.getTypeParser(f.dataTypeID, 'text'));
  const rows = (result.rows as unknown as (string | null)[][]).map((raw) => {
    const values = raw.map((v, i) => (v === null ? null : parsers[i]!(v)));
    if (input.rowMode === 'array') return values;
    const row: Record<string, unknown> = {};
    fields.forEach((f, i) => (row[f.name] = values[i]));
    return row;
  });
  return {
    command: result.command ?? '',
    rowCount: result.rowCount ?? null,
    oid: null,
    rows,
    fields,
  };
}

/**
 * PGlite hangs the statement's parameters and options on its errors; pg does not (and values
 * have no place in logs).
 */
function asPgError(err: unknown): never {
  if (err && typeof err === 'object') {
    delete (err as { params?: unknown }).params;
    delete (err as { queryOptions?: unknown }).queryOptions;
  }
  throw err;
}

function commandResult(command: string): PgResult {
  return { command, rowCount: null, oid: null, rows: [], fields: [] };
}
