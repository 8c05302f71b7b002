// A throw-away Redis master and replica watched by three sentinels, for the Sentinel tests
// (`redis-server sentinel.conf --sentinel`: Debian's redis-server binary runs Sentinel too).
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { findRedisServer } from './services.js';
import {
  command,
  nodeOf,
  replicaInSync,
  startGroup,
  waitFor,
  type RedisNode,
} from './redis-processes.js';

export { killNode, type RedisNode } from './redis-processes.js';

export interface RedisSentinelSetup {
  /** REDIS_SENTINELS */
  readonly sentinels: string;
  /** REDIS_SENTINEL_NAME */
  readonly name: string;
  /** REDIS_PASSWORD: the master and replica require it. */
  readonly password: string;
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
  const password = `sentinel-${randomBytes(12).toString('hex')}`;
  const plain = (dir: string, port: number) => [
    // The master and replica ask for a password (the sentinels do not).
    '--requirepass',
    password,
    '--masterauth',
    password,
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
  const servers = await startGroup(
    'parley-sentinel-data-',
    1,
    async (dir, port) => plain(dir, port),
    password,
  );
  const masterPort = servers.started[0]!.port;
  const stops = [servers.stop];
  const stopAll = async () => {
    await Promise.all(stops.map((s) => s()));
  };
  try {
    const replicas = await startGroup(
      'parley-sentinel-data-',
      1,
      async (dir, port) => [...plain(dir, port), '--replicaof', '127.0.0.1', String(masterPort)],
      password,
    );
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
          `sentinel auth-pass ${name} ${password}`,
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
        if (!(await replicaInSync({ port: replicaPort, password }))) return false;
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
      password,
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
