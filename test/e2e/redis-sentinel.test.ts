// Two server processes on a Redis master and replica watched by three sentinels
// (REDIS_SENTINELS + REDIS_SENTINEL_NAME; the master and replica password-protected,
// REDIS_PASSWORD): messages cross instances, and killing the master
// mid-traffic loses no acknowledged message while every connection finds the promoted replica
// by itself (ioredis asks the sentinels again on reconnect).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import { expectDeliveredAcross, killMasterMidTraffic } from '../support/failover.js';
import {
  createGroupAt,
  registerAt,
  startServerProcess,
  type E2eUser,
  type ServerProcess,
} from '../support/process.js';
import {
  killNode,
  startRedisSentinel,
  type RedisSentinelSetup,
} from '../support/redis-sentinel.js';
import { createDatabase, findRedisServer } from '../support/services.js';

const postgresUrl = inject('postgresUrl');
const haveRedis = findRedisServer() !== null;
if (!haveRedis && process.env.CI === 'true') {
  throw new Error('CI=true and redis-server is missing: install the redis-server package');
}

const dirs: string[] = [];
const servers: ServerProcess[] = [];
const clients: Client[] = [];
let sentinel: RedisSentinelSetup | null = null;
afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.dispose()));
  await Promise.allSettled(servers.map((s) => s.stop('SIGKILL')));
  await sentinel?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!postgresUrl || !haveRedis)('Redis Sentinel', () => {
  let a: ServerProcess;
  let b: ServerProcess;
  let ann: E2eUser;
  let bob: E2eUser;

  beforeAll(async () => {
    const [started, databaseUrl] = await Promise.all([
      startRedisSentinel(),
      createDatabase(postgresUrl),
    ]);
    sentinel = started!;
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-sentinel-e2e-'));
    dirs.push(dataDir);
    const env = {
      DATABASE_URL: databaseUrl,
      REDIS_SENTINELS: sentinel.sentinels,
      REDIS_SENTINEL_NAME: sentinel.name,
      REDIS_PASSWORD: sentinel.password,
      NODE_ENV: 'production',
      JWT_SECRET: 'sentinel-e2e-secret-sentinel-e2e-secret-sentinel',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      OUTBOX_GRACE_MS: '500',
      OUTBOX_DRAIN_INTERVAL_MS: '250',
    };
    [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    servers.push(a, b);
    [ann, bob] = await Promise.all([registerAt(a, 'Ann'), registerAt(b, 'Bob')]);
  });

  it('delivers a message sent on A to a subscriber on B', async () => {
    const conversationId = await createGroupAt(a, ann, [bob]);
    await expectDeliveredAcross({ a, b, ann, bob, conversationId, clients });
  });

  it('loses no acknowledged message when the master is killed and a sentinel promotes the replica', async () => {
    const conversationId = await createGroupAt(a, ann, [bob]);
    const { master, replica } = sentinel!;
    await killMasterMidTraffic({
      label: 'redis sentinel failover',
      a,
      b,
      ann,
      bob,
      conversationId,
      clients,
      kill: () => killNode(master),
      failedOver: async () => (await sentinel!.currentMasterPort()) === replica.port,
    });
  });
});
