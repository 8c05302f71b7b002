/**
 * Starts throw-away REAL PostgreSQL and Redis servers for the integration tests.
 *
 * Used by test/global-setup.ts; every server lives in its own temp directory on
 * a free loopback port and is removed again by `stop()`.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants as fsConstants, rmSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import postgres from 'postgres';

// Values provided by test/global-setup.ts, read in tests with `inject(...)`.
// An empty string means the service is not installed (never the case with CI=true).
declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the throw-away PostgreSQL server: postgres://postgres@127.0.0.1:PORT/postgres */
    postgresUrl: string;
    /** URL of the throw-away Redis server: redis://127.0.0.1:PORT */
    redisUrl: string;
    /** The Chromium binary for the browser test ('' when not installed). */
    chromiumPath: string;
  }
}

export type Service = {
  /** Connection URL (postgres://… or redis://…). */
  url: string;
  /** PID of the server process (the postmaster for PostgreSQL). */
  pid: number;
  /** Stops the server and removes its temp directory. Idempotent. */
  stop(): Promise<void>;
};

/**
 * A PostgreSQL server that can also be taken down and brought back on the same data directory
 * and port (for fault tests): `stopKeepingData()`, then `start()` again. `pid` is the current
 * postmaster's. `stop()` still stops it for good and removes the data directory.
 */
export type PostgresService = Service & {
  /** Whether the postmaster is running (false between `stopKeepingData()` and `start()`). */
  readonly running: boolean;
  /**
   * Stops the postmaster, keeping the data directory: `fast` (the default) disconnects clients
   * and aborts their transactions, then shuts down cleanly; `immediate` is a crash.
   */
  stopKeepingData(mode?: 'smart' | 'fast' | 'immediate'): Promise<void>;
  /** Starts the postmaster again on the same data directory and port; waits until it accepts. */
  start(): Promise<void>;
  /** `stopKeepingData(mode)` then `start()`. */
  restart(mode?: 'smart' | 'fast' | 'immediate'): Promise<void>;
};

// ---------------------------------------------------------------------------
// Registry of live servers, so they can be killed synchronously when the
// process is interrupted or exits without running the async teardown.
// ---------------------------------------------------------------------------

const liveServices = new Set<() => void>();
let exitHookInstalled = false;

export function registerSyncCleanup(fn: () => void): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', stopAllServicesSync);
  }
  liveServices.add(fn);
  return () => liveServices.delete(fn);
}

/**
 * Synchronously (best effort) kills every server started by this module that
 * has not been stopped yet. Safe to call from 'exit' and signal handlers.
 */
export function stopAllServicesSync(): void {
  for (const fn of [...liveServices]) {
    liveServices.delete(fn);
    try {
      fn();
    } catch {
      // best effort
    }
  }
}

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

type ExecResult = { stdout: string; stderr: string };

function run(
  file: string,
  args: readonly string[],
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 16 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error) {
          const detail = [stdout.trim(), stderr.trim()].filter(Boolean).join('\n');
          reject(
            new Error(
              `command failed: ${[file, ...args].join(' ')}\n${error.message}${detail ? `\n${detail}` : ''}`,
            ),
          );
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findOnPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

/** Finds a free TCP port on 127.0.0.1 (bind to port 0, read it, close). */
export function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not determine a free port'));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

async function tailFile(file: string, lines = 40): Promise<string> {
  try {
    const text = await fs.readFile(file, 'utf8');
    return text.split('\n').slice(-lines).join('\n').trim();
  } catch {
    return '(no log file)';
  }
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

// ---------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------

function hasPgBinaries(dir: string): boolean {
  return (
    isExecutable(path.join(dir, 'initdb')) &&
    isExecutable(path.join(dir, 'pg_ctl')) &&
    isExecutable(path.join(dir, 'postgres'))
  );
}

/**
 * The PostgreSQL bin directory: the highest /usr/lib/postgresql/<N>/bin
 * (Debian layout), else `pg_config --bindir`. Deliberately ignores whatever
 * `initdb` is on PATH (it may be a wrapper). Returns null if nothing usable.
 */
export async function findPostgresBinDir(): Promise<string | null> {
  const root = '/usr/lib/postgresql';
  try {
    const versions = (await fs.readdir(root))
      .filter((name) => /^\d+(\.\d+)?$/.test(name))
      .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
    for (const version of versions) {
      const dir = path.join(root, version, 'bin');
      if (hasPgBinaries(dir)) return dir;
    }
  } catch {
    // no Debian layout
  }
  const pgConfig = findOnPath('pg_config');
  if (pgConfig) {
    try {
      const { stdout } = await run(pgConfig, ['--bindir'], { timeoutMs: 10_000 });
      const dir = stdout.trim();
      if (dir && hasPgBinaries(dir)) return dir;
    } catch {
      // ignore
    }
  }
  return null;
}

/** Runs a PostgreSQL tool, as the `postgres` OS user when we are root. */
function runPg(
  binDir: string,
  tool: string,
  args: readonly string[],
  cwd: string,
  timeoutMs?: number,
) {
  const bin = path.join(binDir, tool);
  const opts = { cwd, ...(timeoutMs === undefined ? {} : { timeoutMs }) };
  return isRoot()
    ? run('runuser', ['-u', 'postgres', '--', bin, ...args], opts)
    : run(bin, args, opts);
}

function runPgSync(binDir: string, tool: string, args: readonly string[], cwd: string): void {
  const bin = path.join(binDir, tool);
  const [file, argv] = isRoot()
    ? ['runuser', ['-u', 'postgres', '--', bin, ...args]]
    : [bin, [...args]];
  spawnSync(file, argv, { cwd, stdio: 'ignore', timeout: 15_000 });
}

async function readPostmasterPid(dir: string): Promise<number> {
  const text = await fs.readFile(path.join(dir, 'postmaster.pid'), 'utf8');
  const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) {
    throw new Error(`unexpected postmaster.pid content in ${dir}: ${JSON.stringify(text)}`);
  }
  return pid;
}

/**
 * Starts a fresh PostgreSQL cluster (trust auth, user `postgres`) in a temp
 * directory on a free loopback port. Returns null when no PostgreSQL binaries
 * are installed; throws (with the server log tail) when startup fails.
 * Tests run without durability (fsync off); `durable` keeps PostgreSQL's defaults
 * (fsync, synchronous_commit=on), as the benchmark measures.
 */
export async function startPostgres(
  opts: {
    durable?: boolean;
    /** More server settings, as `name=value`. */ settings?: string[];
  } = {},
): Promise<PostgresService | null> {
  const binDir = await findPostgresBinDir();
  if (!binDir) return null;

  if (isRoot()) {
    if (!findOnPath('runuser')) {
      throw new Error(
        'running as root but `runuser` is not available to drop to the postgres user',
      );
    }
    try {
      await run('id', ['-u', 'postgres'], { timeoutMs: 10_000 });
    } catch {
      throw new Error(
        'running as root but there is no `postgres` OS user (PostgreSQL refuses to run as root); ' +
          "install Debian's postgresql package or run the tests as a normal user",
      );
    }
  }

  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-pg-'));
  const cwd = dir;
  const logFile = path.join(dir, 'log');
  const cleanupDir = () => fs.rm(dir, { recursive: true, force: true });

  try {
    if (isRoot()) await run('chown', ['postgres:', dir], { timeoutMs: 10_000 });

    await runPg(
      binDir,
      'initdb',
      ['-D', dir, '--auth=trust', '-U', 'postgres', '--encoding=UTF8', '--no-locale', '--no-sync'],
      cwd,
      180_000,
    );

    // The port is free when we probe it, but another process may grab it
    // before the postmaster binds: retry a few times on a new port.
    let lastError: unknown;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const port = await getFreePort();
      const serverOptions = [
        `-p ${port}`,
        `-k "${dir}"`,
        '-c listen_addresses=127.0.0.1',
        ...(opts.durable
          ? []
          : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
        '-c max_connections=300',
        ...(opts.settings ?? []).map((setting) => `-c ${setting}`),
      ].join(' ');
      try {
        await runPg(
          binDir,
          'pg_ctl',
          ['-D', dir, '-w', '-t', '60', '-l', logFile, 'start', '-o', serverOptions],
          cwd,
          90_000,
        );
      } catch (err) {
        lastError = err;
        // Make sure a half-started postmaster is not left behind.
        try {
          const stalePid = await readPostmasterPid(dir);
          killQuietly(stalePid, 'SIGKILL');
          await fs.rm(path.join(dir, 'postmaster.pid'), { force: true });
        } catch {
          // nothing started
        }
        const log = await tailFile(logFile);
        if (attempt < 3 && /address already in use|could not bind/i.test(log)) {
          await fs.rm(logFile, { force: true });
          continue;
        }
        throw new Error(
          `PostgreSQL failed to start (data dir ${dir}, port ${port}):\n${(err as Error).message}\n` +
            `--- tail of ${logFile} ---\n${log}`,
          { cause: err },
        );
      }

      let pid = await readPostmasterPid(dir);
      let running = true;
      const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

      const stopSync = () => {
        runPgSync(binDir, 'pg_ctl', ['-D', dir, '-m', 'immediate', '-w', '-t', '10', 'stop'], cwd);
        if (isAlive(pid)) killQuietly(pid, 'SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      };
      const unregister = registerSyncCleanup(stopSync);

      let stopping: Promise<void> | undefined;
      // Serialises stopKeepingData / start / stop, so they never overlap.
      let lifecycle: Promise<unknown> = Promise.resolve();
      const serially = <T>(step: () => Promise<T>): Promise<T> => {
        const next = lifecycle.then(step, step);
        lifecycle = next.catch(() => undefined);
        return next;
      };

      const halt = async (mode: 'smart' | 'fast' | 'immediate', timeoutSeconds: number) => {
        try {
          await runPg(
            binDir,
            'pg_ctl',
            ['-D', dir, '-m', mode, '-w', '-t', String(timeoutSeconds), 'stop'],
            cwd,
            (timeoutSeconds + 15) * 1_000,
          );
        } catch {
          // fall through to SIGKILL
        }
        if (isAlive(pid)) {
          killQuietly(pid, 'SIGKILL');
          const deadline = Date.now() + 5_000;
          while (isAlive(pid) && Date.now() < deadline) await sleep(25);
        }
        running = false;
      };

      const stopKeepingData = (mode: 'smart' | 'fast' | 'immediate' = 'fast') =>
        serially(async () => {
          if (stopping) throw new Error('PostgreSQL was stopped for good');
          if (running) await halt(mode, 30);
        });

      const startAgain = () =>
        serially(async () => {
          if (stopping) throw new Error('PostgreSQL was stopped for good');
          if (running) return;
          // A crashed (immediate / SIGKILL) postmaster may leave its pid file behind.
          if (!isAlive(pid)) await fs.rm(path.join(dir, 'postmaster.pid'), { force: true });
          try {
            await runPg(
              binDir,
              'pg_ctl',
              ['-D', dir, '-w', '-t', '60', '-l', logFile, 'start', '-o', serverOptions],
              cwd,
              90_000,
            );
          } catch (err) {
            throw new Error(
              `PostgreSQL failed to restart (data dir ${dir}, port ${port}):\n${(err as Error).message}\n` +
                `--- tail of ${logFile} ---\n${await tailFile(logFile)}`,
              { cause: err },
            );
          }
          pid = await readPostmasterPid(dir);
          running = true;
        });

      const stop = () => {
        stopping ??= (async () => {
          unregister();
          await lifecycle;
          if (running) await halt('fast', 30);
          await cleanupDir();
        })();
        return stopping;
      };

      const service: PostgresService = {
        url,
        get pid() {
          return pid;
        },
        get running() {
          return running;
        },
        stop,
        stopKeepingData,
        start: startAgain,
        restart: async (mode) => {
          await stopKeepingData(mode);
          await startAgain();
        },
      };
      return service;
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  } catch (err) {
    await cleanupDir();
    throw err;
  }
}

/**
 * The database the global setup migrates once per run (createTemplateDatabase); fresh test
 * databases are copies of it, so each start finds its migrations applied instead of running
 * all of them again (~1-2 s of PostgreSQL's CPU per database since the partitioned history).
 */
export const TEMPLATE_DATABASE = 'parley_template';

/** Creates TEMPLATE_DATABASE on the server behind `adminUrl`, with every migration applied. */
export async function createTemplateDatabase(adminUrl: string): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`CREATE DATABASE "${TEMPLATE_DATABASE}"`);
  } finally {
    await sql.end({ timeout: 5 });
  }
  const url = new URL(adminUrl);
  url.pathname = `/${TEMPLATE_DATABASE}`;
  // Imported here: the rest of this module starts servers and needs none of the app's code.
  const { migrateWithLock } = await import('../../src/db/client.js');
  await migrateWithLock(url.toString());
}

/**
 * Creates a fresh database `<prefix>_<random hex>` on the server behind `adminUrl` and returns
 * the URL of the new database (same host, port, user). It is a copy of TEMPLATE_DATABASE (all
 * migrations applied) where the server has one, unless `empty`: for tests of migrating itself.
 */
export async function createDatabase(
  adminUrl: string,
  prefix = 'parley',
  opts: { empty?: boolean } = {},
): Promise<string> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix)) {
    throw new Error(`invalid database name prefix: ${JSON.stringify(prefix)}`);
  }
  const name = `${prefix}_${randomBytes(8).toString('hex')}`;
  if (name.length > 63) throw new Error(`database name too long: ${name}`);

  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const template =
      !opts.empty &&
      (await sql`select 1 from pg_database where datname = ${TEMPLATE_DATABASE}`).length > 0;
    await sql.unsafe(
      `CREATE DATABASE "${name}"${template ? ` TEMPLATE "${TEMPLATE_DATABASE}"` : ''}`,
    );
  } finally {
    await sql.end({ timeout: 5 });
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

// ---------------------------------------------------------------------------
// Redis
// ---------------------------------------------------------------------------

export function findRedisServer(): string | null {
  return (
    findOnPath('redis-server') ??
    (isExecutable('/usr/bin/redis-server') ? '/usr/bin/redis-server' : null)
  );
}

/** Resolves when a TCP connection to the port answers PING with +PONG. */
function pingRedis(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    let buffer = '';
    let settled = false;
    const socket = net.connect({ host: '127.0.0.1', port });
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.includes('\r\n')) finish(buffer.startsWith('+PONG'));
    });
    socket.once('error', () => finish(false));
    socket.once('close', () => finish(false));
  });
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/**
 * Starts a throw-away redis-server (no persistence) on a free loopback port, or on `port` when
 * given (to bring a stopped server back where its clients expect it).
 * Returns null when redis-server is not installed.
 */
export async function startRedis(port?: number): Promise<Service | null> {
  const bin = findRedisServer();
  if (!bin) return null;

  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-redis-'));
    const listenPort = port ?? (await getFreePort());
    const child = spawn(
      bin,
      [
        '--port',
        String(listenPort),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
      ],
      { cwd: dir, detached: false, stdio: ['ignore', 'pipe', 'pipe'] },
    );

    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-8_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let spawnError: Error | undefined;
    child.once('error', (err) => {
      spawnError = err;
    });

    const killSync = () => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        killQuietly(child.pid, 'SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    };

    // Poll until PING answers, the process dies, or the deadline passes.
    const deadline = Date.now() + 10_000;
    let ready = false;
    while (Date.now() < deadline) {
      if (spawnError || child.exitCode !== null || child.signalCode !== null) break;
      if (await pingRedis(listenPort)) {
        ready = true;
        break;
      }
      await sleep(50);
    }

    if (ready && child.pid !== undefined) {
      const pid = child.pid;
      const unregister = registerSyncCleanup(killSync);
      let stopping: Promise<void> | undefined;
      const stop = () => {
        stopping ??= (async () => {
          unregister();
          if (child.exitCode === null && child.signalCode === null) {
            killQuietly(pid, 'SIGTERM');
            if (!(await waitForExit(child, 3_000))) {
              killQuietly(pid, 'SIGKILL');
              await waitForExit(child, 3_000);
            }
          }
          child.stdout?.destroy();
          child.stderr?.destroy();
          await fs.rm(dir, { recursive: true, force: true });
        })();
        return stopping;
      };
      return { url: `redis://127.0.0.1:${listenPort}`, pid, stop };
    }

    killSync();
    await waitForExit(child, 3_000);
    lastError = new Error(
      `redis-server failed to start on port ${listenPort}` +
        (spawnError ? `: ${spawnError.message}` : '') +
        `\n--- redis-server output ---\n${output.trim() || '(none)'}`,
    );
    if (!/address already in use/i.test(output)) break;
  }
  throw lastError ?? new Error('redis-server failed to start');
}
