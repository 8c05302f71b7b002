/**
 * Starts a throw-away PgBouncer (Debian's `pgbouncer`) in front of a PostgreSQL server, on a
 * free loopback port, with trust authentication and every database of that server reachable
 * under its own name. As root it runs as the `postgres` OS user (PgBouncer refuses root), like
 * the PostgreSQL of test/support/services.ts. Killed on exit like the other services.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { rmSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  findOnPath,
  getFreePort,
  isExecutable,
  registerSyncCleanup,
  type Service,
} from './services.js';

// Provided by test/global-setup.ts: '' when pgbouncer is not installed (never with CI=true).
declare module 'vitest' {
  export interface ProvidedContext {
    pgbouncerPath: string;
  }
}

export function findPgbouncer(): string | null {
  return (
    findOnPath('pgbouncer') ?? (isExecutable('/usr/sbin/pgbouncer') ? '/usr/sbin/pgbouncer' : null)
  );
}

export interface PgbouncerOptions {
  /** The PgBouncer binary (global setup's `pgbouncerPath`). */
  bin: string;
  /** Any URL of the PostgreSQL server to put it in front of (its host and port are used). */
  postgresUrl: string;
  /** `transaction` (the default) or `session`. */
  poolMode?: 'transaction' | 'session';
  /**
   * Server connections per database and user. Small by default, so that the clients' transactions
   * take turns on a few server connections, as they do in production.
   */
  poolSize?: number;
  /** Startup parameters to accept and drop rather than refuse (PgBouncer's own setting). */
  ignoreStartupParameters?: readonly string[];
  /** The port to listen on (to bring a stopped one back where its clients expect it). */
  port?: number;
}

export type Pgbouncer = Service & {
  /** `url` with the database name replaced: the same database, through the pooler. */
  urlOf(databaseUrl: string): string;
};

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** Resolves when something accepts TCP connections on the port. */
function accepts(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export async function startPgbouncer(opts: PgbouncerOptions): Promise<Pgbouncer> {
  const target = new URL(opts.postgresUrl);
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-pgbouncer-'));
    const port = opts.port ?? (await getFreePort());
    const ini = [
      '[databases]',
      // Any database name: the one of that name on the server behind.
      `* = host=${target.hostname} port=${target.port}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${path.join(dir, 'userlist.txt')}`,
      `admin_users = ${decodeURIComponent(target.username) || 'postgres'}`,
      `pool_mode = ${opts.poolMode ?? 'transaction'}`,
      `default_pool_size = ${opts.poolSize ?? 4}`,
      'max_client_conn = 500',
      `pidfile = ${path.join(dir, 'pgbouncer.pid')}`,
      ...(opts.ignoreStartupParameters?.length
        ? [`ignore_startup_parameters = ${opts.ignoreStartupParameters.join(',')}`]
        : []),
      'log_connections = 0',
      'log_disconnections = 0',
    ].join('\n');
    const user = decodeURIComponent(target.username) || 'postgres';
    await fs.writeFile(path.join(dir, 'pgbouncer.ini'), ini + '\n');
    await fs.writeFile(path.join(dir, 'userlist.txt'), `"${user}" ""\n`);
    if (isRoot()) spawnSync('chown', ['-R', 'postgres:', dir], { timeout: 10_000 });

    const args = [path.join(dir, 'pgbouncer.ini')];
    const [file, argv] = isRoot()
      ? ['runuser', ['-u', 'postgres', '--', opts.bin, ...args]]
      : [opts.bin, args];
    const child = spawn(file, argv, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-8_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', (err) => (output += `\n${err.message}`));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

    // PgBouncer's own pid (under runuser, the child is runuser).
    const pgbouncerPid = async (): Promise<number | undefined> => {
      try {
        const pid = Number.parseInt(await fs.readFile(path.join(dir, 'pgbouncer.pid'), 'utf8'));
        return Number.isInteger(pid) && pid > 0 ? pid : undefined;
      } catch {
        return undefined;
      }
    };
    let pid: number | undefined;
    const killSync = () => {
      if (pid !== undefined) killQuietly(pid, 'SIGKILL');
      if (child.pid !== undefined && child.exitCode === null) killQuietly(child.pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    };

    const deadline = Date.now() + 10_000;
    let ready = false;
    while (Date.now() < deadline && child.exitCode === null) {
      if (await accepts(port)) {
        ready = (pid = await pgbouncerPid()) !== undefined;
        if (ready) break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (ready && pid !== undefined) {
      const unregister = registerSyncCleanup(killSync);
      let stopping: Promise<void> | undefined;
      const service: Pgbouncer = {
        url: `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/postgres`,
        pid,
        urlOf: (databaseUrl) => {
          const url = new URL(databaseUrl);
          url.hostname = '127.0.0.1';
          url.port = String(port);
          return url.toString();
        },
        stop: () =>
          (stopping ??= (async () => {
            unregister();
            killQuietly(pid, 'SIGTERM');
            const gone = await Promise.race([
              exited.then(() => true),
              new Promise<boolean>((r) => setTimeout(() => r(false), 3_000)),
            ]);
            if (!gone) killSync();
            await fs.rm(dir, { recursive: true, force: true });
          })()),
      };
      return service;
    }
    killSync();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
    lastError = new Error(
      `pgbouncer failed to start on port ${port}\n--- its output ---\n${output.trim() || '(none)'}`,
    );
    if (opts.port !== undefined || !/address already in use/i.test(output)) break;
  }
  throw lastError ?? new Error('pgbouncer failed to start');
}
