/**
 * A PostgreSQL primary with a streaming standby, for failover and read-replica tests: the
 * primary is started by startPostgres (test/support/services.ts), the standby is a
 * `pg_basebackup -R` copy of it on another free loopback port. With `synchronous`, the primary
 * waits for the standby on every commit (synchronous_standby_names), so what it acknowledged is
 * on the standby when it dies.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import postgres from 'postgres';
import {
  findPostgresBinDir,
  getFreePort,
  startPostgres,
  type PostgresService,
} from './services.js';

export interface Standby {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  readonly url: string;
  readonly port: number;
  /** `pg_ctl promote`: resolves once it accepts writes. */
  promote(): Promise<void>;
  /** Stops it and removes its data directory. Idempotent. */
  stop(): Promise<void>;
}

export interface PrimaryWithStandby {
  readonly primary: PostgresService;
  readonly standby: Standby;
  /** kill -9 of the primary's postmaster and every backend of it (a machine that died). */
  killPrimary(): void;
  stop(): Promise<void>;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

function run(file: string, args: readonly string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${[file, ...args].join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** A PostgreSQL tool, as the `postgres` OS user when we are root (PostgreSQL refuses root). */
function runPg(binDir: string, tool: string, args: readonly string[], timeoutMs?: number) {
  const bin = path.join(binDir, tool);
  return isRoot()
    ? run('runuser', ['-u', 'postgres', '--', bin, ...args], timeoutMs)
    : run(bin, args, timeoutMs);
}

/** The pids of `pid`'s children (from /proc). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces, so read after its closing bracket.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

function killHard(pid: number): void {
  const children = childrenOf(pid);
  for (const p of [pid, ...children]) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Starts a primary and one standby of it. Null when PostgreSQL is not installed. The primary is
 * as durable as the test needs (synchronous_commit on; fsync stays off, which a process crash
 * does not lose), `settings` go to both servers.
 */
export async function startPrimaryWithStandby(opts: {
  synchronous: boolean;
  settings?: string[];
}): Promise<PrimaryWithStandby | null> {
  const binDir = await findPostgresBinDir();
  if (!binDir) return null;
  const primary = await startPostgres({
    settings: [
      'synchronous_commit=on',
      'wal_level=replica',
      'max_wal_senders=5',
      // The standby's WAL stays on the primary until it got it (no lost standby after a burst).
      'wal_keep_size=256MB',
      ...(opts.synchronous ? [`synchronous_standby_names='*'`] : []),
      ...(opts.settings ?? []),
    ],
  });
  if (!primary) return null;
  const primaryPort = new URL(primary.url).port;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-standby-'));
  let standbyPid: number | undefined;
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  try {
    if (isRoot()) await run('chown', ['postgres:', dir]);
    await fs.chmod(dir, 0o700);
    await runPg(binDir, 'pg_basebackup', [
      ...['-h', '127.0.0.1', '-p', primaryPort, '-U', 'postgres', '-D', dir],
      ...['-R', '-X', 'stream', '--no-sync', '--checkpoint=fast'],
    ]);
    const port = await getFreePort();
    const options = [
      `-p ${port}`,
      `-k "${dir}"`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c hot_standby=on',
      '-c max_connections=300',
      // As the walreceiver names itself to the primary (synchronous_standby_names).
      '-c cluster_name=standby1',
      ...(opts.settings ?? []).map((s) => `-c ${s}`),
    ].join(' ');
    const log = path.join(dir, 'log');
    await runPg(binDir, 'pg_ctl', ['-D', dir, '-w', '-t', '60', '-l', log, 'start', '-o', options]);
    standbyPid = Number(
      (await fs.readFile(path.join(dir, 'postmaster.pid'), 'utf8')).split('\n')[0],
    );
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    let stopping: Promise<void> | undefined;
    const standby: Standby = {
      url,
      port,
      async promote() {
        await runPg(binDir, 'pg_ctl', ['-D', dir, '-w', '-t', '30', 'promote']);
      },
      stop() {
        stopping ??= (async () => {
          await runPg(
            binDir,
            'pg_ctl',
            ['-D', dir, '-m', 'immediate', '-w', '-t', '10', 'stop'],
            20_000,
          ).catch(() => standbyPid !== undefined && killHard(standbyPid));
          removeDir();
        })();
        return stopping;
      },
    };
    await waitForStreaming(primary.url, opts.synchronous);
    return {
      primary,
      standby,
      killPrimary: () => killHard(primary.pid),
      stop: async () => {
        await Promise.allSettled([standby.stop(), primary.stop()]);
      },
    };
  } catch (err) {
    if (standbyPid !== undefined) killHard(standbyPid);
    removeDir();
    await primary.stop();
    throw err;
  }
}

/** Waits until the primary sees its standby streaming (and, if asked, as synchronous). */
async function waitForStreaming(primaryUrl: string, synchronous: boolean): Promise<void> {
  const sql = postgres(primaryUrl, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const rows = await sql<{ state: string; sync_state: string }[]>`
        select state, sync_state from pg_stat_replication`;
      const row = rows[0];
      if (row?.state === 'streaming' && (!synchronous || row.sync_state === 'sync')) return;
      if (Date.now() > deadline) {
        throw new Error(`standby not streaming within 30 s: ${JSON.stringify(rows)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await sql.end({ timeout: 1 });
  }
}
