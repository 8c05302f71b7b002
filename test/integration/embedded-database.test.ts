// The embedded database as `npm start` opens it: a data folder created on first start (in a
// child process, so initdb's scratch memory leaves with it), reopened with its data on the next,
// with the page cache that EMBEDDED_SHARED_BUFFERS_MB asks for.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, queryRows } from '../../src/db/client.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-embedded-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('embedded database in a data folder', () => {
  it('is created with the asked-for shared_buffers, and keeps its data across a restart', async () => {
    const dataDir = path.join(dir, 'data');
    const first = await openDatabase({ dataDir, statementTimeoutMs: 5_000, sharedBuffersMb: 24 });
    const [buffers] = await queryRows<{ shared_buffers: string }>(
      first.db,
      sql`show shared_buffers`,
    );
    expect(buffers!.shared_buffers).toBe('24MB');
    await first.db.execute(
      sql`insert into users (id, phone, display_name, password_hash) values (gen_random_uuid(), '+15550001111', 'Ada', 'x')`,
    );
    await first.close();

    const again = await openDatabase({ dataDir, statementTimeoutMs: 5_000 });
    const [defaults] = await queryRows<{ shared_buffers: string }>(
      again.db,
      sql`show shared_buffers`,
    );
    expect(defaults!.shared_buffers).toBe('16MB');
    const users = await queryRows<{ display_name: string }>(
      again.db,
      sql`select display_name from users where phone = '+15550001111'`,
    );
    expect(users).toEqual([{ display_name: 'Ada' }]);
    await again.close();
  }, 120_000);
});
