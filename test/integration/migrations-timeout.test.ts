// Migrations run on a connection of their own (DATABASE_DIRECT_URL behind a pooler), which must
// not inherit the statement timeout a role or database sets for the pooled connections (README
// "Running at scale"): a long migration would be cut off halfway through a release.
import { readdirSync } from 'node:fs';
import postgres from 'postgres';
import { describe, expect, inject, it } from 'vitest';
import { migrateWithLock } from '../../src/db/client.js';
import { createDatabase } from '../support/services.js';

const postgresUrl = inject('postgresUrl');

describe.skipIf(!postgresUrl)('migrations under a database-wide statement timeout', () => {
  it('run to the end although every statement elsewhere is cut off after 1 ms', async () => {
    const url = await createDatabase(postgresUrl, 'timeout', { empty: true });
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await sql.unsafe(
        `alter database "${new URL(url).pathname.slice(1)}" set statement_timeout = '1ms'`,
      );
      await migrateWithLock(url);
      const [row] = await sql<{ count: number }[]>`
        select count(*)::int as count from drizzle.__drizzle_migrations`;
      const files = readdirSync('drizzle').filter((f) => f.endsWith('.sql'));
      expect(row?.count).toBe(files.length);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});
