// Throw-away Redis topologies for the high-availability tests, from Debian's redis-server and
// redis-cli on free loopback ports, each server in its own temp directory: a Redis Cluster of
// three masters with a replica each, and a master and replica watched by three sentinels
// (`redis-server sentinel.conf --sentinel`, the same binary). Every process is killed on exit
// even when the async teardown never runs (registerSyncCleanup, as services.ts does).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
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

interface RedisProcess {
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

/** Runs a Redis command through a short-lived connection (with a deadline) and returns the reply. */
async function command(port: number, ...args: (string | number)[]): Promise<unknown> {
  const redis = new Redis({
    host: '127.0.0.1',
    port,
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

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number) {
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
async function startGroup(
  prefix: string,
  count: number,
  build: (dir: string, port: number) => Promise<string[]>,
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
          return (await command(p.port, 'PING')) === 'PONG';
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

const nodeOf = (p: RedisProcess): RedisNode => ({
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

function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) =>
      err
        ? reject(new Error(`${file} ${args.join(' ')}: ${err.message}\n${stdout}${stderr}`))
        : resolve(stdout),
    );
  });
}

/** A replica's link to its master is up (it has the data and can take over). */
async function replicaInSync(port: number): Promise<boolean> {
  const info = String(await command(port, 'INFO', 'replication'));
  return info.includes('role:master') || info.includes('master_link_status:up');
}

export interface RedisCluster {
  /** REDIS_CLUSTER_NODES: every node as a seed. */
  readonly seeds: string;
  readonly nodes: readonly RedisNode[];
  /** The node that is master of the slot now (asked of a live node). */
  masterOfSlot(slot: number): Promise<RedisNode>;
  /**
   * A graceful failover of the slot's shard: its replica takes over with the master's consent
   * (CLUSTER FAILOVER), as an operator does for maintenance. The old master lives on as the
   * replica and tells its shard channels' subscribers to go (an unsolicited SUNSUBSCRIBE).
   * Resolves with the node that was promoted.
   */
  promoteReplicaOfSlot(slot: number): Promise<RedisNode>;
  stop(): Promise<void>;
}

/**
 * A Redis Cluster of three masters and three replicas (`redis-cli --cluster create
 * --cluster-replicas 1`), with a node timeout of 1 s so a killed master's replica takes over
 * within a few seconds. Resolves once the cluster is ok and every replica is in sync. Null
 * when redis-server or redis-cli is not installed.
 */
export async function startRedisCluster(): Promise<RedisCluster | null> {
  const cli = findRedisCli();
  if (!cli) return null;
  const { started, stop } = await startGroup('parley-cluster-', 6, async (dir, port) => [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--cluster-enabled',
    'yes',
    // The nodes gossip on a second port (port + 10000 unless set, which may be taken or > 65535).
    '--cluster-port',
    String(await getFreePort()),
    '--cluster-config-file',
    path.join(dir, 'nodes.conf'),
    '--cluster-node-timeout',
    '1000',
    // A replica may take over however long ago it last heard from its master.
    '--cluster-replica-validity-factor',
    '0',
    // A replica's first sync starts at once (Redis waits 5 s for more replicas by default).
    '--repl-diskless-sync-delay',
    '0',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ]);
  const nodes = started.map(nodeOf);
  try {
    await run(
      cli,
      [
        '--cluster',
        'create',
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      30_000,
    );
    await waitFor(
      'the cluster to be ok on every node, with every replica in sync',
      async () => {
        for (const n of nodes) {
          if (!String(await command(n.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) {
            return false;
          }
          if (!(await replicaInSync(n.port))) return false;
        }
        return true;
      },
      20_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const masterOfSlot = async (slot: number): Promise<RedisNode> => {
    for (const n of nodes) {
      try {
        const ranges = (await command(n.port, 'CLUSTER', 'SLOTS')) as [
          number,
          number,
          [string, number],
        ][];
        const range = ranges.find(([from, to]) => from <= slot && slot <= to);
        const port = Number(range?.[2][1]);
        const node = nodes.find((x) => x.port === port);
        if (node) return node;
      } catch {
        // a dead node: ask the next
      }
    }
    throw new Error(`no live node knows the master of slot ${slot}`);
  };
  return {
    seeds: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    nodes,
    masterOfSlot,
    async promoteReplicaOfSlot(slot) {
      const master = await masterOfSlot(slot);
      for (const n of nodes) {
        const info = String(await command(n.port, 'INFO', 'replication').catch(() => ''));
        if (info.includes(`master_port:${master.port}\r\n`)) {
          await command(n.port, 'CLUSTER', 'FAILOVER');
          return n;
        }
      }
      throw new Error(`no replica of ${master.port} to promote`);
    },
    stop,
  };
}

export interface RedisSentinelSetup {
  /** REDIS_SENTINELS */
  readonly sentinels: string;
  /** REDIS_SENTINEL_NAME */
  readonly name: string;
  readonly master: RedisNode;
  readonly replica: RedisNode;
  /** The address the sentinels give for the master now. */
  currentMasterPort(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * A master, one replica and three sentinels (quorum 2, down after 1 s). Resolves once every
 * sentinel knows the replica and the other two sentinels (so a failover can be agreed on) and
 * the replica is in sync. Null when redis-server is not installed.
 */
export async function startRedisSentinel(name = 'parley'): Promise<RedisSentinelSetup | null> {
  if (!findRedisServer()) return null;
  const plain = (dir: string, port: number) => [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--repl-diskless-sync-delay',
    '0',
    '--dir',
    dir,
  ];
  const servers = await startGroup('parley-sentinel-data-', 1, async (dir, port) =>
    plain(dir, port),
  );
  const masterPort = servers.started[0]!.port;
  const stops = [servers.stop];
  const stopAll = async () => {
    await Promise.all(stops.map((s) => s()));
  };
  try {
    const replicas = await startGroup('parley-sentinel-data-', 1, async (dir, port) => [
      ...plain(dir, port),
      '--replicaof',
      '127.0.0.1',
      String(masterPort),
    ]);
    stops.push(replicas.stop);
    const sentinels = await startGroup('parley-sentinel-', 3, async (dir, port) => {
      // A sentinel rewrites its configuration file: it needs one of its own, writable.
      const conf = path.join(dir, 'sentinel.conf');
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${name} 127.0.0.1 ${masterPort} 2`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 10000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      return [conf, '--sentinel'];
    });
    stops.push(sentinels.stop);
    const replicaPort = replicas.started[0]!.port;
    await waitFor(
      'the sentinels to know the replica and each other, and the replica in sync',
      async () => {
        if (!(await replicaInSync(replicaPort))) return false;
        for (const s of sentinels.started) {
          const known = (await command(s.port, 'SENTINEL', 'REPLICAS', name)) as unknown[];
          const peers = (await command(s.port, 'SENTINEL', 'SENTINELS', name)) as unknown[];
          if (known.length < 1 || peers.length < 2) return false;
        }
        return true;
      },
      30_000,
    );
    return {
      sentinels: sentinels.started.map((s) => `127.0.0.1:${s.port}`).join(','),
      name,
      master: nodeOf(servers.started[0]!),
      replica: nodeOf(replicas.started[0]!),
      async currentMasterPort() {
        for (const s of sentinels.started) {
          try {
            const [, port] = (await command(
              s.port,
              'SENTINEL',
              'GET-MASTER-ADDR-BY-NAME',
              name,
            )) as [string, string];
            return Number(port);
          } catch {
            // ask the next
          }
        }
        throw new Error('no sentinel answered');
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
