// History pages and searches from a streaming replica (DATABASE_REPLICA_URLS): served by the
// replica when it has caught up (seen in the replica's own pg_stat_statements), and never at the
// cost of a reader's own message: with the replica's replay paused, a user who just sent a
// message sees it in their next page and search, which come from the primary.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ok, registerUser, startApp, type TestApp, type TestUser } from '../support/app.js';
import { startPrimaryWithStandby, type PrimaryWithStandby } from '../support/postgres-standby.js';
import { createDatabase } from '../support/services.js';

const postgresUrl = inject('postgresUrl');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const PAGE = `query($id: ID!) { messages(conversationId: $id, last: 5) { edges { node { id body } } } }`;
const SEARCH = `query($q: String!, $id: ID) { searchMessages(query: $q, conversationId: $id) { edges { node { id } } } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`;

let pair: PrimaryWithStandby | undefined;
let app: TestApp | undefined;
let replicaSql: postgres.Sql | undefined;
afterAll(async () => {
  await app?.close();
  await replicaSql?.end({ timeout: 1 });
  await pair?.stop();
});

describe.skipIf(!postgresUrl)('history reads from a streaming replica', () => {
  let ann: TestUser;
  let bob: TestUser;
  let group: string;

  beforeAll(async () => {
    pair = (await startPrimaryWithStandby({
      synchronous: false,
      settings: ['shared_preload_libraries=pg_stat_statements'],
    }))!;
    const databaseUrl = await createDatabase(pair.primary.url);
    const name = new URL(databaseUrl).pathname;
    const primary = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    await primary`create extension pg_stat_statements`.finally(() => primary.end());
    const replicaUrl = `${pair.standby.url.replace(/\/postgres$/, '')}${name}`;
    replicaSql = postgres(replicaUrl, { max: 1, onnotice: () => {} });
    app = await startApp('postgres', {
      databaseUrl,
      env: { DATABASE_REPLICA_URLS: replicaUrl, DATABASE_REPLICA_MAX_LAG_MS: '1000' },
    });
    [ann, bob] = await Promise.all([registerUser(app, 'Ann'), registerUser(app, 'Bob')]);
    const created = ok(
      await app.gql<{ createGroupConversation: { id: string } }>(
        `mutation($input: CreateGroupConversationInput!) { createGroupConversation(input: $input) { id } }`,
        { input: { title: 'replicated', memberPhones: [bob.phone] } },
        ann.token,
      ),
    );
    group = created.createGroupConversation.id;
    ok(
      await app.gql(SEND, { input: { conversationId: group, body: 'hello from ann' } }, ann.token),
    );
  }, 60_000);

  /** Statements run on the replica that read messages (history pages, searches). */
  async function replicaReads(): Promise<number> {
    const [row] = await replicaSql!<{ calls: number }[]>`
      select coalesce(sum(calls), 0)::int as calls from pg_stat_statements
      where query ilike '%messages%' and query not ilike '%pg_stat_statements%'`;
    return row!.calls;
  }

  const pageOf = async (user: TestUser) =>
    ok(
      await app!.gql<{ messages: { edges: { node: { id: string; body: string } }[] } }>(
        PAGE,
        { id: group },
        user.token,
      ),
    ).messages.edges.map((e) => e.node);

  it('serves history pages and searches from the replica once it has caught up', async () => {
    // Bob has written nothing lately; the replica is a few ms behind at most.
    let before = await replicaReads();
    for (let attempt = 0; ; attempt++) {
      const page = await pageOf(bob);
      expect(page.map((m) => m.body)).toContain('hello from ann');
      const after = await replicaReads();
      if (after > before) break;
      expect(attempt, 'no history page was read on the replica').toBeLessThan(50);
      before = after;
      await sleep(100);
    }
    before = await replicaReads();
    const found = ok(
      await app!.gql<{ searchMessages: { edges: unknown[] } }>(
        SEARCH,
        { q: 'hello', id: group },
        bob.token,
      ),
    );
    expect(found.searchMessages.edges).toHaveLength(1);
    expect(await replicaReads()).toBeGreaterThan(before);
  });

  it('shows a user their own new message at once, from the primary, while the replica is paused', async () => {
    await replicaSql!`select pg_wal_replay_pause()`;
    try {
      for (let i = 0; i < 5; i++) {
        const body = `paused ${i} zebra${i}`;
        const sent = ok(
          await app!.gql<{ sendMessage: { id: string } }>(
            SEND,
            { input: { conversationId: group, body } },
            ann.token,
          ),
        );
        const before = await replicaReads();
        const page = await pageOf(ann);
        expect(page.map((m) => m.id)).toContain(sent.sendMessage.id);
        const found = ok(
          await app!.gql<{ searchMessages: { edges: { node: { id: string } }[] } }>(
            SEARCH,
            { q: `zebra${i}`, id: group },
            ann.token,
          ),
        );
        expect(found.searchMessages.edges.map((e) => e.node.id)).toEqual([sent.sendMessage.id]);
        // Neither came from the (paused) replica.
        expect(await replicaReads()).toBe(before);
      }
      // Past DATABASE_REPLICA_MAX_LAG_MS, a replica that stopped is used for nobody.
      await sleep(1_300);
      const before = await replicaReads();
      const bobSees = await pageOf(bob);
      expect(bobSees.map((m) => m.body)).toContain('paused 4 zebra4');
      expect(await replicaReads()).toBe(before);
    } finally {
      await replicaSql!`select pg_wal_replay_resume()`;
    }
    // Replaying again, it serves Ann too (her writes are on it now).
    let before = await replicaReads();
    for (let attempt = 0; ; attempt++) {
      const page = await pageOf(ann);
      expect(page.map((m) => m.body)).toContain('paused 4 zebra4');
      const after = await replicaReads();
      if (after > before) break;
      expect(attempt, 'the replica was not used again after resuming').toBeLessThan(50);
      before = after;
      await sleep(100);
    }
    // Operators see the split in /metrics.
    const metrics = await (await fetch(`${app!.origin}/metrics`)).text();
    for (const target of ['replica', 'primary']) {
      const line = new RegExp(`^parley_history_reads_total\\{target="${target}"\\} (\\d+)$`, 'm');
      expect(Number(line.exec(metrics)?.[1] ?? 0), target).toBeGreaterThan(0);
    }
  });

  it('keeps serving history from the primary when the replica goes down', async () => {
    await replicaSql!.end({ timeout: 1 });
    replicaSql = undefined;
    await pair!.standby.stop();
    for (let i = 0; i < 5; i++) {
      expect((await pageOf(bob)).map((m) => m.body)).toContain('paused 4 zebra4');
      const found = ok(
        await app!.gql<{ searchMessages: { edges: unknown[] } }>(
          SEARCH,
          { q: 'zebra4', id: group },
          bob.token,
        ),
      );
      expect(found.searchMessages.edges).toHaveLength(1);
    }
  });
});
