// History pages and searches from streaming replicas (DATABASE_REPLICA_URLS), without anyone
// missing their own message: a reader is sent to a replica only once it has replayed past that
// reader's last write.
//
// The write's own LSN would cost a round trip on every write path. Instead the primary's WAL
// position (pg_current_wal_lsn) is sampled every POLL_MS, and each replica's replay position
// (pg_last_wal_replay_lsn) too. A write that finished at time t is at or below any sample taken
// after t; so for a user who wrote at t, a replica that has replayed the first sample taken after
// t has their write. This instance remembers its users' writes for `maxLagMs`; for anyone else
// (no write here in that time) a replica must have replayed the sample from `maxLagMs` ago,
// which also keeps a replica that lags further out of use. Whatever is not known (no sample
// yet, a replica not answering) is read from the primary.
//
// A write through ANOTHER instance is not known here: it is guaranteed to be on the replica used
// only once it is older than maxLagMs (the README says so).
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { Logger } from '../logger.js';
import {
  isDatabaseUnavailable,
  pgErrorCode,
  queryRows,
  reconnectBackoff,
  type Database,
} from './client.js';
import * as schema from './schema.js';

/** How often the primary's and the replicas' WAL positions are read. */
const POLL_MS = 100;
/** A replica whose position is older than this is not used (its poll is failing). */
const STALE_MS = 1_000;
/** "canceling statement due to conflict with recovery" (a hot standby replaying WAL). */
const RECOVERY_CONFLICT = '40001';

export interface HistoryReads {
  /**
   * Runs a read of `userId`'s history or search on a replica that has their writes, or on the
   * primary; again on the primary when the replica fails (away, or the query was cancelled by
   * the replica's recovery).
   */
  read<T>(userId: string, query: (db: Database) => Promise<T>): Promise<T>;
  /** `userId` has just written (one of their mutations finished). */
  wrote(userId: string): void;
  close(): Promise<void>;
}

/** Where a history read went (for /metrics). */
export type ReadTarget = 'replica' | 'primary';

/** No replicas: everything from the primary. */
export function primaryOnly(primary: Database): HistoryReads {
  return {
    read: (_userId, query) => query(primary),
    wrote: () => {},
    close: async () => {},
  };
}

/** `X/Y` (pg_lsn as text) as a number that compares. */
export function parseLsn(text: string): bigint {
  const match = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i.exec(text);
  if (!match) throw new Error(`not an LSN: ${text}`);
  return (BigInt(`0x${match[1]}`) << 32n) + BigInt(`0x${match[2]}`);
}

interface Sample {
  at: number;
  lsn: bigint;
}

interface Replica {
  readonly db: Database;
  readonly client: postgres.Sql;
  /** Replayed up to here, as of `at`; undefined until the first answer. */
  replayed: Sample | undefined;
}

export function createHistoryReads(opts: {
  primary: Database;
  replicaUrls: readonly string[];
  maxLagMs: number;
  statementTimeoutMs: number;
  poolSize: number;
  logger: Logger;
  onRead?: (target: ReadTarget) => void;
}): HistoryReads {
  const { primary, maxLagMs, logger } = opts;
  if (opts.replicaUrls.length === 0) return primaryOnly(primary);
  const log = logger.child({ component: 'replicas' });
  const replicas: Replica[] = opts.replicaUrls.map((url) => {
    const client = postgres(url, {
      max: opts.poolSize,
      onnotice: () => {},
      connection: { statement_timeout: opts.statementTimeoutMs },
      connect_timeout: 2,
      backoff: reconnectBackoff,
    });
    return { db: drizzlePostgres({ client, schema }) as Database, client, replayed: undefined };
  });
  /** The primary's positions, oldest first, for the last maxLagMs and a little more. */
  const samples: Sample[] = [];
  /** When each user's last write here finished. */
  const writes = new Map<string, number>();
  let next = 0;
  let closed = false;

  async function pollPrimary(): Promise<void> {
    const at = Date.now();
    const [row] = await queryRows<{ lsn: string }>(
      primary,
      sql`select pg_current_wal_lsn()::text as lsn`,
    );
    samples.push({ at, lsn: parseLsn(row!.lsn) });
    const keepFrom = Date.now() - maxLagMs - STALE_MS;
    while (samples.length > 1 && samples[0]!.at < keepFrom) samples.shift();
    for (const [userId, wroteAt] of writes)
      if (wroteAt < Date.now() - maxLagMs) writes.delete(userId);
  }

  async function pollReplica(replica: Replica): Promise<void> {
    const at = Date.now();
    const [row] = await replica.client<{ lsn: string | null }[]>`
      select pg_last_wal_replay_lsn()::text as lsn`.catch((err: unknown) => {
      replica.replayed = undefined;
      throw err;
    });
    // Null: not a standby (promoted, or misconfigured): its data may have left ours; not used.
    replica.replayed = row?.lsn ? { at, lsn: parseLsn(row.lsn) } : undefined;
  }

  let polling = false;
  let warned = false;
  const timer = setInterval(() => {
    if (polling || closed) return;
    polling = true;
    void Promise.allSettled([pollPrimary(), ...replicas.map(pollReplica)])
      .then((results) => {
        const failed = results.find((r) => r.status === 'rejected');
        if (failed && !warned) {
          warned = true;
          log.warn(
            { err: failed.reason },
            'reading a WAL position failed; reads go to the primary',
          );
        } else if (!failed) warned = false;
      })
      .finally(() => {
        polling = false;
      });
  }, POLL_MS);
  timer.unref();

  /** The WAL position a replica must have replayed to serve `userId`, if known. */
  function required(userId: string, now: number): bigint | undefined {
    const wroteAt = writes.get(userId);
    const after = Math.max(wroteAt ?? 0, now - maxLagMs);
    return samples.find((s) => s.at > after)?.lsn;
  }

  /** A replica that has replayed what `userId` needs, if any. */
  function replicaFor(userId: string): Replica | undefined {
    const now = Date.now();
    const needed = required(userId, now);
    if (needed === undefined) return undefined;
    const ready = replicas.filter(
      (r) => r.replayed && r.replayed.at > now - STALE_MS && r.replayed.lsn >= needed,
    );
    return ready.length > 0 ? ready[next++ % ready.length] : undefined;
  }

  return {
    async read(userId, query) {
      const replica = replicaFor(userId);
      if (replica) {
        try {
          const result = await query(replica.db);
          opts.onRead?.('replica');
          return result;
        } catch (err) {
          if (!isDatabaseUnavailable(err) && pgErrorCode(err) !== RECOVERY_CONFLICT) throw err;
          // Not used again until its next poll answers.
          replica.replayed = undefined;
        }
      }
      opts.onRead?.('primary');
      return query(primary);
    },
    wrote(userId) {
      writes.set(userId, Date.now());
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await Promise.allSettled(replicas.map((r) => r.client.end({ timeout: 5 })));
    },
  };
}
