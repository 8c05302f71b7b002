// A throw-away Redis Cluster of three masters with a replica each, for the cluster tests.
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { getFreePort } from './services.js';
import {
  command,
  findRedisCli,
  nodeOf,
  replicaInSync,
  run,
  startGroup,
  waitFor,
  type RedisNode,
} from './redis-processes.js';

export { findRedisCli, killNode, type RedisNode } from './redis-processes.js';

export interface RedisCluster {
  /** REDIS_CLUSTER_NODES: every node as a seed. */
  readonly seeds: string;
  /** REDIS_PASSWORD: every node requires it. */
  readonly password: string;
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
  const password = `cluster-${randomBytes(12).toString('hex')}`;
  const at = (port: number) => ({ port, password });
  const { started, stop } = await startGroup(
    'parley-cluster-',
    6,
    async (dir, port) => [
      // Every node asks clients and its peers for the password, as production clusters do.
      '--requirepass',
      password,
      '--masterauth',
      password,
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
    ],
    password,
  );
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
      // Not on the command line, where `ps` would show it.
      { REDISCLI_AUTH: password },
    );
    await waitFor(
      'the cluster to be ok on every node, with every replica in sync',
      async () => {
        for (const n of nodes) {
          if (!String(await command(at(n.port), 'CLUSTER', 'INFO')).includes('cluster_state:ok')) {
            return false;
          }
          if (!(await replicaInSync(at(n.port)))) return false;
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
        const ranges = (await command(at(n.port), 'CLUSTER', 'SLOTS')) as [
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
    password,
    nodes,
    masterOfSlot,
    async promoteReplicaOfSlot(slot) {
      const master = await masterOfSlot(slot);
      for (const n of nodes) {
        const info = String(await command(at(n.port), 'INFO', 'replication').catch(() => ''));
        if (info.includes(`master_port:${master.port}\r\n`)) {
          await command(at(n.port), 'CLUSTER', 'FAILOVER');
          return n;
        }
      }
      throw new Error(`no replica of ${master.port} to promote`);
    },
    stop,
  };
}
