// Finding the primary among several PostgreSQL servers (a primary and its standbys), and
// following it when a standby is promoted, without a restart.
//
// postgres.js understands a multi-host URL with target_session_attrs=read-write, but does not
// do for us what a failover needs: while no host accepts writes (the primary is dead and nobody
// has promoted a standby yet) a connection cycles through the hosts with no pause and no deadline
// (a new backend on the standby every few milliseconds, and queries wait forever), and a pooled
// connection to a server that became read-only is kept. node-postgres (graphile-worker's pool)
// does not parse a multi-host URL at all. So both drivers get their sockets from here: one
// locator probes the hosts (in parallel, with a deadline), connects every new connection to the
// one that accepts writes, and when that one goes away or turns read-only it finds the new one
// and closes every connection still open to another server.
import net from 'node:net';
import { Duplex } from 'node:stream';
import postgres from 'postgres';

export interface DatabaseHost {
  readonly host: string;
  readonly port: number;
}

/** A database URL's servers, and the same URL for one of them (credentials, database, options). */
export interface DatabaseTargets {
  readonly hosts: readonly DatabaseHost[];
  /**
   * The URL with only `hosts` in it (one, or several joined by commas), and no
   * target_session_attrs: the locator chooses.
   */
  urlFor(...hosts: DatabaseHost[]): string;
}

const DEFAULT_PORT = 5432;

/**
 * Splits a postgres:// URL that may name several servers (`postgres://u:p@h1:5432,h2:5433/db`)
 * into its servers and a one-server URL for each. Throws on a malformed URL.
 */
export function parseDatabaseTargets(url: string): DatabaseTargets {
  const match = /^(postgres(?:ql)?:\/\/)(?:([^@/?#]*)@)?([^/?#]*)(.*)$/.exec(url);
  if (!match) throw new Error('not a postgres:// URL');
  const [, scheme, userInfo, hostList, rest] = match as unknown as [
    string,
    string,
    string | undefined,
    string,
    string,
  ];
  const hosts = hostList.split(',').map((entry) => parseHost(entry));
  if (hosts.length === 0 || hosts.some((h) => h.host === '')) throw new Error('a host is empty');
  // The rest as a URL, to drop target_session_attrs (validated by the caller) from the query.
  const tail = new URL(`http://h${rest}`);
  tail.searchParams.delete('target_session_attrs');
  const suffix = `${tail.pathname === '/' && !rest.startsWith('/') ? '' : tail.pathname}${tail.search}`;
  const auth = userInfo === undefined ? '' : `${userInfo}@`;
  return {
    hosts,
    urlFor: (...chosen) => `${scheme}${auth}${chosen.map(formatHost).join(',')}${suffix}`,
  };
}

function parseHost(entry: string): DatabaseHost {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!, port: portOf(bracketed[2]) };
  const [host = '', port, ...extra] = entry.split(':');
  if (extra.length > 0) throw new Error(`"${entry}" is not host:port (write IPv6 as [addr]:port)`);
  return { host: decodeURIComponent(host), port: portOf(port) };
}

function portOf(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_PORT;
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port < 1 || port > 65_535) {
    throw new Error(`port "${text}" is not a number from 1 to 65535`);
  }
  return port;
}

const formatHost = (h: DatabaseHost) =>
  `${h.host.includes(':') ? `[${h.host}]` : encodeURIComponent(h.host)}:${h.port}`;

const sameHost = (a: DatabaseHost, b: DatabaseHost) => a.host === b.host && a.port === b.port;

/** The error a connection gets while no server accepts writes (counts as "database away"). */
export class NoPrimaryError extends Error {
  override name = 'NoPrimaryError';
  readonly code = 'NO_PRIMARY';
}

export interface PrimaryLocatorOptions {
  /** How long one probe, and one search for a primary, may take before giving up. */
  timeoutMs: number;
  /** Pause between rounds of probes while no host accepts writes. */
  retryMs?: number;
  /** Told when the primary changes (a failover), for the log. */
  onChange?: (primary: DatabaseHost | undefined, previous: DatabaseHost | undefined) => void;
}

/**
 * Knows which of the hosts accepts writes. `primary()` answers from memory while nothing went
 * wrong; a connection error or a read-only answer (`suspect`) sends it to look again, and every
 * connection it handed out to another server is then closed, so the pools reconnect to the new
 * primary instead of keeping what they had.
 */
export class PrimaryLocator {
  readonly #targets: DatabaseTargets;
  readonly #opts: Required<Omit<PrimaryLocatorOptions, 'onChange'>> &
    Pick<PrimaryLocatorOptions, 'onChange'>;
  #current: DatabaseHost | undefined;
  /** The primary last found (kept while searching), to tell a failover from a reconnection. */
  #lastFound: DatabaseHost | undefined;
  #searching: Promise<DatabaseHost> | undefined;
  #closed = false;
  /** Open sockets, by the host they go to. */
  readonly #sockets = new Map<net.Socket, DatabaseHost>();

  constructor(targets: DatabaseTargets, opts: PrimaryLocatorOptions) {
    this.#targets = targets;
    this.#opts = { retryMs: 100, ...opts };
    // One host: nothing to choose, and nothing to probe.
    if (targets.hosts.length === 1) this.#current = targets.hosts[0];
  }

  /** The server that accepts writes: the known one, or the result of a search (with deadline). */
  primary(): Promise<DatabaseHost> {
    if (this.#current) return Promise.resolve(this.#current);
    this.#searching ??= this.#search().finally(() => {
      this.#searching = undefined;
    });
    return this.#searching;
  }

  /**
   * Something went wrong with a connection to `host` (it closed under us, was refused, or the
   * server said it is read-only): if that is the primary we know, look for it again.
   */
  suspect(host: DatabaseHost): void {
    if (this.#targets.hosts.length === 1 || this.#closed) return;
    if (!this.#current || !sameHost(this.#current, host)) return;
    const previous = this.#current;
    this.#current = undefined;
    // Search now, so the next connection does not wait for it; failure is for that one to see.
    this.primary().then(
      (found) => {
        if (!sameHost(found, previous)) this.#dropAllBut(found);
      },
      () => this.#dropAllBut(undefined),
    );
  }

  /** A socket to the primary, for postgres.js's `socket` option. Never throws (see below). */
  async socket(): Promise<net.Socket> {
    let host: DatabaseHost;
    try {
      host = await this.primary();
    } catch (err) {
      return failedSocket(err);
    }
    const socket = net.connect({ host: host.host, port: host.port });
    // postgres.js names the server in its connection errors from these.
    Object.assign(socket, { host: host.host, port: host.port });
    this.track(socket, host);
    return socket;
  }

  /**
   * Watches a socket to `host`: an error on it or an end the server began makes the host
   * suspect; it is closed if the primary moves elsewhere.
   */
  track(socket: net.Socket, host: DatabaseHost): void {
    this.#sockets.set(socket, host);
    socket.once('error', () => this.suspect(host));
    // The server hung up first (it stopped or crashed): we had not ended our side yet.
    socket.once('end', () => {
      if (!socket.writableEnded) this.suspect(host);
    });
    socket.once('close', () => this.#sockets.delete(socket));
  }

  /**
   * A statement was refused as read-only: the server we took for the primary is not (any more).
   * Its connections are closed at once (all would refuse writes alike); new ones wait for the
   * search.
   */
  readOnly(): void {
    const host = this.#current;
    if (!host || this.#targets.hosts.length === 1) return;
    this.suspect(host);
    for (const [socket, to] of this.#sockets) if (sameHost(to, host)) socket.destroy();
  }

  close(): void {
    this.#closed = true;
  }

  #dropAllBut(keep: DatabaseHost | undefined): void {
    for (const [socket, host] of this.#sockets) {
      if (keep && sameHost(host, keep)) continue;
      socket.destroy();
    }
  }

  async #search(): Promise<DatabaseHost> {
    const deadline = Date.now() + this.#opts.timeoutMs;
    let lastProblem = 'no server answered';
    for (;;) {
      const found = await this.#probeAll().catch((err: unknown) => {
        lastProblem = (err as Error).message;
        return undefined;
      });
      if (found) {
        const previous = this.#lastFound;
        this.#current = this.#lastFound = found;
        if (!previous || !sameHost(previous, found)) this.#opts.onChange?.(found, previous);
        return found;
      }
      if (this.#closed || Date.now() + this.#opts.retryMs > deadline) {
        this.#opts.onChange?.(undefined, this.#lastFound);
        throw new NoPrimaryError(
          `no database server accepts writes (${this.#targets.hosts.length} tried): ${lastProblem}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, this.#opts.retryMs));
    }
  }

  /** The first host to answer that it accepts writes; rejects when none does. */
  #probeAll(): Promise<DatabaseHost> {
    const timeoutMs = this.#opts.timeoutMs;
    return Promise.any(
      this.#targets.hosts.map(async (host) => {
        if (await acceptsWrites(this.#targets.urlFor(host), timeoutMs)) return host;
        throw new Error(`${host.host}:${host.port} is read-only (a standby)`);
      }),
    ).catch((err: unknown) => {
      const reasons = err instanceof AggregateError ? err.errors : [err];
      throw new Error(reasons.map((e) => (e as Error).message).join('; '));
    });
  }
}

/** Whether the server at `url` takes writes: not in recovery, not read-only by default. */
async function acceptsWrites(url: string, timeoutMs: number): Promise<boolean> {
  const probe = postgres(url, {
    max: 1,
    connect_timeout: Math.max(1, Math.ceil(timeoutMs / 1_000)),
    idle_timeout: 1,
    fetch_types: false,
    prepare: false,
    onnotice: () => {},
    connection: { statement_timeout: timeoutMs, application_name: 'parley-probe' },
  });
  try {
    const [row] = await probe<{ standby: boolean; readOnly: string }[]>`
      select pg_is_in_recovery() as standby,
             current_setting('default_transaction_read_only') as "readOnly"`;
    return row !== undefined && !row.standby && row.readOnly === 'off';
  } finally {
    await probe.end({ timeout: 0 });
  }
}

/**
 * A socket that fails at once with `err`. postgres.js's `socket` option must not throw: a
 * connection whose socket factory throws stays "connecting" forever (a pool slot lost); a socket
 * that errors is handled like a refused connection, and its query gets `err`.
 */
function failedSocket(err: unknown): net.Socket {
  const stream = new Duplex({
    read() {},
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
  setImmediate(() => stream.destroy(err instanceof Error ? err : new Error(String(err))));
  return stream as unknown as net.Socket;
}
