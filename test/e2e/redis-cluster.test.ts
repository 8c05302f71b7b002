// Two server processes on a Redis Cluster of three masters and three replicas
// (REDIS_CLUSTER_NODES, every node password-protected: REDIS_PASSWORD): messages cross instances over sharded pub/sub, presence and rate limits
// hold across instances, and killing the master that owns a conversation's shard mid-traffic
// loses no acknowledged message while the bus moves to the promoted replica by itself.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hashSlot } from '../../src/realtime/redis-keys.js';
import { expectDeliveredAcross, killMasterMidTraffic } from '../support/failover.js';
import {
  createGroupAt,
  gqlAt,
  okAt,
  registerAt,
  startServerProcess,
  type E2eUser,
  type ServerProcess,
} from '../support/process.js';
import {
  findRedisCli,
  killNode,
  startRedisCluster,
  type RedisCluster,
  type RedisNode,
} from '../support/redis-cluster.js';
import { createDatabase, findRedisServer } from '../support/services.js';
import { connect, subscribe, type Received } from '../support/ws.js';

const postgresUrl = inject('postgresUrl');
const KEY_PREFIX = 'cluster-e2e:';
const haveRedis = findRedisServer() !== null && findRedisCli() !== null;
if (!haveRedis && process.env.CI === 'true') {
  throw new Error(
    'CI=true and redis-server/redis-cli are missing: install the redis-server package',
  );
}

const dirs: string[] = [];
const servers: ServerProcess[] = [];
const clients: Client[] = [];
let cluster: RedisCluster | null = null;
afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.dispose()));
  await Promise.allSettled(servers.map((s) => s.stop('SIGKILL')));
  await cluster?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Presence {
  status: 'ONLINE' | 'OFFLINE';
  lastSeenAt: string | null;
  user: { id: string };
}

describe.skipIf(!postgresUrl || !haveRedis)('Redis Cluster (sharded pub/sub)', () => {
  let a: ServerProcess;
  let b: ServerProcess;
  let ann: E2eUser;
  let bob: E2eUser;

  beforeAll(async () => {
    const [started, databaseUrl] = await Promise.all([
      startRedisCluster(),
      createDatabase(postgresUrl),
    ]);
    cluster = started!;
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-cluster-e2e-'));
    dirs.push(dataDir);
    const env = {
      DATABASE_URL: databaseUrl,
      REDIS_CLUSTER_NODES: cluster.seeds,
      REDIS_PASSWORD: cluster.password,
      REDIS_KEY_PREFIX: KEY_PREFIX,
      NODE_ENV: 'production',
      JWT_SECRET: 'cluster-e2e-secret-cluster-e2e-secret-cluster',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      // The real limits: the rate limit case counts them across instances.
      RATE_LIMIT_MULTIPLIER: '1',
      PRESENCE_GRACE_MS: '300',
      OUTBOX_GRACE_MS: '500',
      OUTBOX_DRAIN_INTERVAL_MS: '250',
    };
    [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    servers.push(a, b);
    [ann, bob] = await Promise.all([registerAt(a, 'Ann'), registerAt(b, 'Bob')]);
  });

  const wsOf = (server: ServerProcess, user: E2eUser, lazy = true) => {
    const c = connect(server.url.replace(/^http/, 'ws'), user.token, { lazy });
    clients.push(c);
    return c;
  };

  it('delivers a message sent on A to a subscriber on B, and /readyz says the pub/sub is up', async () => {
    const conversationId = await createGroupAt(a, ann, [bob]);
    await expectDeliveredAcross({ a, b, ann, bob, conversationId, clients });
    for (const server of [a, b]) {
      const res = await fetch(server.url.replace('/graphql', '/readyz'));
      expect(res.status).toBe(200);
    }
  });

  it('shows a user on A as ONLINE, then OFFLINE, to a contact watching on B', async () => {
    const carol = await registerAt(a, 'Carol');
    await createGroupAt(a, carol, [bob]);
    const watching: Received<Presence> = subscribe(
      wsOf(b, bob),
      `subscription { presenceChanged { status lastSeenAt user { id } } }`,
    );
    // The watch is live a few ms after it is requested: connect Carol until it shows her.
    let device: Client | undefined;
    for (let i = 0; !watching.items.some((p) => p.user.id === carol.id); i++) {
      expect(i, 'Carol never showed ONLINE on B').toBeLessThan(10);
      if (device) {
        await device.dispose();
        await watching
          .until((x) => x.some((p) => p.user.id === carol.id && p.status === 'OFFLINE'), 3_000)
          .catch(() => undefined);
        watching.items.length = 0;
      }
      device = wsOf(a, carol, false);
      await watching
        .until((x) => x.some((p) => p.user.id === carol.id && p.status === 'ONLINE'), 1_000)
        .catch(() => undefined);
    }
    // The presence store answers the same on B (the online set lives in the cluster).
    const online = await okAt<{ userByPhone: { presence: { status: string } } }>(
      b,
      `query($p: String!) { userByPhone(phone: $p) { presence { status } } }`,
      { p: carol.phone },
      bob.token,
    );
    expect(online.userByPhone.presence.status).toBe('ONLINE');
    await device!.dispose();
    const [offline] = (
      await watching.until((x) => x.some((p) => p.user.id === carol.id && p.status === 'OFFLINE'))
    ).filter((p) => p.user.id === carol.id && p.status === 'OFFLINE');
    expect(offline!.lastSeenAt).not.toBeNull();
  });

  it('holds one rate limit budget across A and B', async () => {
    const dave = await registerAt(a, 'Dave');
    const LOOKUP = `query($p: String!) { userByPhone(phone: $p) { id } }`;
    // 30 phone lookups a minute in all: half on each instance, then both refuse.
    for (let i = 0; i < 15; i++) await okAt(a, LOOKUP, { p: ann.phone }, dave.token);
    for (let i = 0; i < 15; i++) await okAt(b, LOOKUP, { p: ann.phone }, dave.token);
    for (const server of [a, b]) {
      const res = await gqlAt(server.url, LOOKUP, { p: ann.phone }, dave.token);
      expect(res.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');
    }
    // Another user's budget is untouched.
    await okAt(b, LOOKUP, { p: ann.phone }, bob.token);
  });

  it('loses no acknowledged message when an operator fails the conversation’s shard over (CLUSTER FAILOVER)', async () => {
    const conversationId = await createGroupAt(a, ann, [bob]);
    const slot = hashSlot(`${KEY_PREFIX}c:${conversationId}`);
    let promoted: RedisNode | undefined;
    await killMasterMidTraffic({
      label: 'redis cluster manual failover',
      a,
      b,
      ann,
      bob,
      conversationId,
      clients,
      kill: async () => {
        promoted = await cluster!.promoteReplicaOfSlot(slot);
      },
      failedOver: async () => (await cluster!.masterOfSlot(slot)).port === promoted?.port,
    });
  });

  it('loses no acknowledged message when the master of the conversation’s shard is killed', async () => {
    const conversationId = await createGroupAt(a, ann, [bob]);
    const slot = hashSlot(`${KEY_PREFIX}c:${conversationId}`);
    const master = await cluster!.masterOfSlot(slot);
    await killMasterMidTraffic({
      label: 'redis cluster failover',
      a,
      b,
      ann,
      bob,
      conversationId,
      clients,
      kill: () => killNode(master),
      failedOver: async () => (await cluster!.masterOfSlot(slot)).port !== master.port,
    });
  });
});
