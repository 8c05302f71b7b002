// The README's production install, as an operator runs it: a copy of the project, `npm ci
// --omit=dev` (no dev dependencies, so no build tools and no test clients), then `npm start`
// with NODE_ENV=production against real PostgreSQL and Redis. A runtime import that lives only in
// devDependencies fails here (it did: graphql-ws), where every other suite, run from the full
// install, would pass.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../support/services.js';
import { okAt, registerAt, startServerProcess, type ServerProcess } from '../support/process.js';
import { connect, subscribe } from '../support/ws.js';

const postgresUrl = inject('postgresUrl');
const redisUrl = inject('redisUrl');
const root = path.resolve(import.meta.dirname, '..', '..');

/**
 * What a clean clone of this working tree would hold: tracked and new files, not ignored ones
 * (installs, data, build output).
 */
function copyProject(to: string): void {
  const listed = spawnSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  if (listed.status === 0) {
    for (const file of listed.stdout.split('\0').filter(Boolean)) {
      if (existsSync(path.join(root, file)))
        cpSync(path.join(root, file), path.join(to, file), { recursive: true });
    }
    return;
  }
  // Not a git checkout (a source tarball): everything but installs, data and build output.
  const skip = new Set(['node_modules', '.git', '.parley', 'test-artifacts', 'coverage']);
  for (const name of readdirSync(root)) {
    if (skip.has(name)) continue;
    cpSync(path.join(root, name), path.join(to, name), {
      recursive: true,
      filter: (src) => !src.includes(`${path.sep}node_modules`) && !src.endsWith('web/dist'),
    });
  }
}

describe.skipIf(!postgresUrl || !redisUrl)(
  'npm ci --omit=dev && npm start, in production mode on PostgreSQL and Redis',
  () => {
    let dir: string;
    let server: ServerProcess | undefined;

    beforeAll(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'parley-prod-install-'));
      copyProject(dir);
      // From npm's cache where it can (the suite's own `npm ci` filled it): same packages, faster.
      execFileSync('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], {
        cwd: dir,
        stdio: 'pipe',
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
        timeout: 240_000,
      });
    }, 300_000);

    afterAll(async () => {
      await server?.stop('SIGKILL');
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('installs without dev dependencies, gets ready, and delivers a message live', async () => {
      // The install really left the dev tools out (else this would test nothing).
      expect(existsSync(path.join(dir, 'node_modules', 'vitest'))).toBe(false);
      expect(existsSync(path.join(dir, 'node_modules', 'vite'))).toBe(false);

      server = await startServerProcess(
        {
          NODE_ENV: 'production',
          DATABASE_URL: await createDatabase(postgresUrl, 'parley_prod'),
          REDIS_URL: redisUrl,
          REDIS_KEY_PREFIX: `prod-install-${process.pid}:`,
          JWT_SECRET: 'a-production-secret-of-at-least-32-characters',
        },
        { npmStartIn: dir, timeoutMs: 90_000 },
      );
      const origin = server.url.replace(/\/graphql$/, '');
      const ready = await fetch(`${origin}/readyz`);
      expect(ready.status).toBe(200);

      const [ann, bob] = [await registerAt(server, 'Ann'), await registerAt(server, 'Bob')];
      const { startDirectConversation } = await okAt<{ startDirectConversation: { id: string } }>(
        server,
        `mutation($phone: String!) { startDirectConversation(phone: $phone) { id } }`,
        { phone: bob.phone },
        ann.token,
      );
      const send = (body: string, clientMessageId: string) =>
        okAt<{ sendMessage: { cursor: string } }>(
          server!,
          `mutation($input: SendMessageInput!) { sendMessage(input: $input) { cursor } }`,
          { input: { conversationId: startDirectConversation.id, body, clientMessageId } },
          ann.token,
        );
      const first = await send('first', 'prod-install-1');
      const client = connect(server.url.replace(/^http/, 'ws'), bob.token);
      try {
        // From the first message's cursor: the second arrives whether it is sent before the
        // subscription is live (replayed) or after (pushed through Redis).
        const received = subscribe<{ body: string }>(
          client,
          `subscription($id: ID!, $after: String) { messageAdded(conversationId: $id, after: $after) { body } }`,
          { id: startDirectConversation.id, after: first.sendMessage.cursor },
        );
        await send('hello from a production install', 'prod-install-2');
        const items = await received.until((got) => got.length >= 1, 15_000);
        expect(items.map((m) => m.body)).toEqual(['hello from a production install']);
      } finally {
        await client.dispose();
      }
    });
  },
);
