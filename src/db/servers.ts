// The drivers' settings for a database URL: one server as it is; several (a primary and its
// standbys) through a PrimaryLocator (src/db/primary.ts), for postgres.js (the app's pool and the
// migration connection) and node-postgres (graphile-worker's pool) alike.
import type net from 'node:net';
import pg from 'pg';
import type postgres from 'postgres';
import { parseDatabaseTargets, PrimaryLocator, type PrimaryLocatorOptions } from './primary.js';

/**
 * A node-postgres Client class for pg.Pool's `Client` option: each connection goes to the
 * locator's primary (whatever host the URL names) and is watched like postgres.js's.
 */
function primaryClientClass(locator: PrimaryLocator): typeof pg.Client {
  return class PrimaryClient extends pg.Client {
    override connect(): Promise<pg.Client>;
    override connect(callback: (err: Error | null, client?: pg.Client) => void): void;
    override connect(callback?: (err: Error | null, client?: pg.Client) => void) {
      const work = locator.primary().then(async (host) => {
        this.host = host.host;
        this.port = host.port;
        await super.connect();
        const stream = (this.connection as unknown as { stream?: net.Socket }).stream;
        if (stream) locator.track(stream, host);
        return this as pg.Client;
      });
      if (!callback) return work;
      work.then(
        (client) => callback(null, client),
        (err: Error) => callback(err),
      );
      return undefined;
    }
  } as unknown as typeof pg.Client;
}

/** How long finding the primary among several servers may take before a connection fails. */
const PRIMARY_SEARCH_MS = 5_000;

/**
 * The drivers' settings for a database URL. One server: the URL as it is. Several (a primary
 * and standbys, `postgres://u@h1:5432,h2:5432/db`): every connection, of both drivers, goes to
 * the one that accepts writes, found and followed by a PrimaryLocator (src/db/primary.ts).
 */
export interface Servers {
  /** A one-server URL for the drivers (the locator overrides where they connect). */
  readonly url: string;
  readonly postgresOptions: { socket?: () => Promise<net.Socket> };
  readonly pgPoolOptions: { Client?: typeof pg.Client };
  /** postgres.js's client, watched for "read-only" answers (a primary turned standby). */
  watch(client: postgres.Sql): postgres.Sql;
  close(): void;
}

export function openServers(
  url: string,
  opts: {
    onChange?: PrimaryLocatorOptions['onChange'];
    /** Whether an error is the server's "read-only" refusal (25006). */
    isReadOnly: (err: unknown) => boolean;
  },
): Servers {
  const targets = parseDatabaseTargets(url);
  if (targets.hosts.length === 1) {
    return { url, postgresOptions: {}, pgPoolOptions: {}, watch: (c) => c, close: () => {} };
  }
  const locator = new PrimaryLocator(targets, {
    timeoutMs: PRIMARY_SEARCH_MS,
    ...(opts.onChange ? { onChange: opts.onChange } : {}),
  });
  return {
    url: targets.urlFor(targets.hosts[0]!),
    postgresOptions: { socket: () => locator.socket() },
    pgPoolOptions: { Client: primaryClientClass(locator) },
    watch: (client) => watchReadOnly(client, opts.isReadOnly, () => locator.readOnly()),
    close: () => locator.close(),
  };
}

/**
 * postgres.js's client, unchanged, except that a statement refused because the server is
 * read-only (25006: it was demoted, or fenced) makes `onReadOnly` run: the locator then looks for
 * the new primary and closes the connections to the old one. The statement itself fails (it did
 * nothing) and is the caller's to retry, as after any lost connection.
 */
function watchReadOnly(
  client: postgres.Sql,
  isReadOnly: (err: unknown) => boolean,
  onReadOnly: () => void,
): postgres.Sql {
  const check = (err: unknown) => {
    if (isReadOnly(err)) onReadOnly();
  };
  // A query runs when awaited (then): watch its outcome without starting it early.
  const watched = <T extends object>(query: T): T => {
    const then = (query as unknown as PromiseLike<unknown>).then.bind(query);
    Object.defineProperty(query, 'then', {
      value: (ok?: (v: unknown) => unknown, fail?: (e: unknown) => unknown) =>
        then(ok, (err: unknown) => {
          check(err);
          if (fail) return fail(err);
          throw err;
        }),
    });
    return query;
  };
  return new Proxy(client, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (key === 'unsafe') {
        return (...args: Parameters<postgres.Sql['unsafe']>) => watched(target.unsafe(...args));
      }
      if (key === 'begin') {
        return (...args: unknown[]) =>
          (target.begin as (...a: unknown[]) => Promise<unknown>)(...args).catch((err: unknown) => {
            check(err);
            throw err;
          });
      }
      return value;
    },
  });
}
