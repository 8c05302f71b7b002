/**
 * Smoke test of the test harness itself: the servers started by
 * test/global-setup.ts are real and usable.
 */
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../support/services.js';

const postgresUrl = inject('postgresUrl');
const redisUrl = inject('redisUrl');

describe('real PostgreSQL', () => {
  it.skipIf(!postgresUrl)('createDatabase gives a fresh, writable database', async () => {
    const dbUrl = await createDatabase(postgresUrl);
    const dbName = new URL(dbUrl).pathname.slice(1);
    expect(dbName).toMatch(/^parley_[0-9a-f]+$/);

    const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql<{ version: string; db: string }[]>`
        select version() as version, current_database() as db
      `;
      expect(row?.version).toContain('PostgreSQL');
      expect(row?.db).toBe(dbName);

      await sql`create table t (id serial primary key, body text not null)`;
      await sql`insert into t (body) values (${'héllo'}), (${'world'})`;
      const rows = await sql<{ body: string }[]>`select body from t order by id`;
      expect(rows.map((r) => r.body)).toEqual(['héllo', 'world']);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it.skipIf(!postgresUrl)('each createDatabase call gives a different database', async () => {
    const [a, b] = await Promise.all([
      createDatabase(postgresUrl, 'iso'),
      createDatabase(postgresUrl, 'iso'),
    ]);
    expect(a).not.toBe(b);
    expect(new URL(a).pathname).toMatch(/^\/iso_[0-9a-f]+$/);
  });
});

describe('real Redis', () => {
  it.skipIf(!redisUrl)('answers SET/GET', async () => {
    const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      expect(await redis.ping()).toBe('PONG');
      expect(await redis.set('parley:harness', 'ok')).toBe('OK');
      expect(await redis.get('parley:harness')).toBe('ok');
    } finally {
      redis.disconnect();
    }
  });
});
