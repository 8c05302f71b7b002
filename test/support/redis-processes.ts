// Throw-away redis-server processes for the high-availability tests (test/support/
// redis-cluster.ts, redis-sentinel.ts), from Debian's redis-server and redis-cli on free
// loopback ports, each server in its own temp directory. Every process is killed on exit even
// when the async teardown never runs (registerSyncCleanup, as services.ts does).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { findRedisServer, getFreePort, registerSyncCleanup } from './services.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** redis-cli from the same package as redis-server, or null when either is missing. */
export function findRedisCli(): string | null {
  const server = findRedisServer();
  if (!server) return null;
  const cli = path.join(path.dirname(server), 'redis-cli');
  return existsSync(cli) ? cli : null;
}

export interface RedisProcess {
  readonly port: number;
  readonly child: ChildProcess;
  readonly dir: string;
  output(): string;
}

/** A live node: its port and the PID to kill. */
export interface RedisNode {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly pid: number;
}

function spawnRedis(args: string[], dir: string, port: number): RedisProcess {
  const child = spawn(findRedisServer()!, args, {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-8_000));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.once('error', (err) => (output += `\nspawn error: ${err.message}`));
  return { port, child, dir, output: () => output };
}

/** A server to ask: its port, and its password when it has one (requirepass). */
export type Target = number | { readonly port: number; readonly password?: string };

/** Runs a Redis command through a short-lived connection (with a deadline) and returns the reply. */
export async function command(target: Target, ...args: (string | number)[]): Promise<unknown> {
  const { port, password } =
    typeof target === 'number' ? { port: target, password: undefined } : target;
  const redis = new Redis({
    host: '127.0.0.1',
    port,
    ...(password ? { password } : {}),
    lazyConnect: true,
    connectTimeout: 1_000,
    commandTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await redis.call(String(args[0]), ...args.slice(1).map(String));
  } finally {
    redis.disconnect();
  }
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * Starts `count` servers, each in its own temp directory with the arguments `build` gives for
 * it, and registers their cleanup; resolves once every one answers PING.
 */
export async function startGroup(
  prefix: string,
  count: number,
  build: (dir: string, port: number) => Promise<string[]>,
  password?: string,
) {
  const started: RedisProcess[] = [];
  const killAll = () => {
    for (const p of started) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      rmSync(p.dir, { recursive: true, force: true });
    }
  };
  const unregister = registerSyncCleanup(killAll);
  const stop = async () => {
    unregister();
    const exits = started.map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.child.exitCode !== null || p.child.signalCode !== null) resolve();
          else p.child.once('exit', () => resolve());
        }),
    );
    killAll();
    await Promise.all(exits);
  };
  try {
    for (let i = 0; i < count; i++) {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
      const port = await getFreePort();
      started.push(spawnRedis(await build(dir, port), dir, port));
    }
    for (const p of started) {
      await waitFor(
        `redis on port ${p.port}`,
        async () => {
          if (p.child.exitCode !== null) throw new Error(`exited:\n${p.output()}`);
          return (await command({ port: p.port, password }, 'PING')) === 'PONG';
        },
        10_000,
      );
    }
  } catch (err) {
    await stop();
    throw new Error(
      `${String(err)}\n${started.map((p) => `--- ${p.port} ---\n${p.output()}`).join('\n')}`,
      { cause: err },
    );
  }
  return { started, stop };
}

export const nodeOf = (p: RedisProcess): RedisNode => ({
  host: '127.0.0.1',
  port: p.port,
  pid: p.child.pid!,
});

/** Kills a node at once (a crash: no shutdown, no goodbye to its peers). */
export function killNode(node: RedisNode): void {
  try {
    process.kill(node.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export function run(
  file: string,
  args: string[],
  timeoutMs: number,
  env: Record<string, string> = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: timeoutMs, encoding: 'utf8', env: { ...process.env, ...env } },
      (err, stdout, stderr) =>
        err
          ? reject(new Error(`${file} ${args.join(' ')}: ${err.message}\n${stdout}${stderr}`))
          : resolve(stdout),
    );
  });
}

/** A replica's link to its master is up (it has the data and can take over). */
export async function replicaInSync(target: Target): Promise<boolean> {
  const info = String(await command(target, 'INFO', 'replication'));
  return info.includes('role:master') || info.includes('master_link_status:up');
}
