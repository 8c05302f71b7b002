// drizzle/0016 (partitioned history) on a database that already has history, on both backends:
// a database at drizzle/0015 with messages, replies, mentions, reactions, an edit, outbox rows,
// push claims and webhook events is migrated; every row is still there, byte for byte, in
// tables now hash-partitioned by conversation_id; history, reactions, edits and search read it
// through the API; new sends go on with the next seq, in the same partition as the old ones.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openDatabase, queryRows, type Executor } from '../../src/db/client.js';
import { createTokenService } from '../../src/domain/auth.js';
import { backends, ok, startApp, uniquePhone, type TestApp } from '../support/app.js';
import { migrationsUpTo } from '../support/migrations.js';
import { createDatabase } from '../support/services.js';

const BEFORE = '0015_search_scaling';
const PARTITIONED = [
  'messages',
  'message_mentions',
  'message_reactions',
  'message_edits',
  'push_deliveries',
  'outbox',
  'webhook_events',
];
const CONVERSATIONS = 6;

const HISTORY = `query($id: ID!) {
  messages(conversationId: $id, last: 20) {
    edges { node {
      seq body sender { id } replyTo { seq } mentions { id }
      reactions { emoji count } edits { body }
    } }
  }
}`;
interface History {
  messages: {
    edges: {
      node: {
        seq: number;
        body: string;
        sender: { id: string };
        replyTo: { seq: number } | null;
        mentions: { id: string }[];
        reactions: { emoji: string; count: number }[];
        edits: { body: string }[];
      };
    }[];
  };
}
const SEARCH = `query($q: String!, $id: ID) {
  searchMessages(query: $q, conversationId: $id) { edges { node { conversationId body } } }
}`;
const SEND = `mutation($id: ID!, $body: String!, $cid: String!) {
  sendMessage(input: { conversationId: $id, body: $body, clientMessageId: $cid }) { seq }
}`;

/** Rows of each table, counted and hashed (in a fixed order) to compare before and after. */
async function fingerprint(db: Executor): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of PARTITIONED) {
    const [row] = await queryRows<{ n: number; h: string }>(
      db,
      sql`select count(*)::int as n, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as h
            from ${sql.identifier(table)} t`,
    );
    out[table] = `${row!.n} ${row!.h}`;
  }
  return out;
}

interface Seeded {
  users: string[];
  conversations: string[];
}

/** History written the way drizzle/0015's functions write it (sends), plus what the API adds. */
async function seed(db: Executor): Promise<Seeded> {
  const users = [randomUUID(), randomUUID(), randomUUID()];
  for (const [i, id] of users.entries()) {
    await db.execute(
      sql`insert into users (id, phone, display_name, password_hash)
          values (${id}, ${uniquePhone()}, ${`User ${i}`}, 'not a hash')`,
    );
  }
  const [a, b, c] = users as [string, string, string];
  const conversations = Array.from({ length: CONVERSATIONS }, () => randomUUID());
  for (const [i, id] of conversations.entries()) {
    await db.execute(
      sql`insert into conversations (id, kind, title) values (${id}, 'GROUP', ${`Room ${i}`})`,
    );
    await db.execute(
      sql`insert into conversation_members (conversation_id, user_id, role)
          values (${id}, ${a}, 'OWNER'), (${id}, ${b}, 'MEMBER'), (${id}, ${c}, 'MEMBER')`,
    );
    const send = (sender: string, body: string, replyTo: number | null, mentions: string[]) =>
      db.execute(
        sql`select seq from parley_send_message(${id}::uuid, ${sender}::uuid, ${body},
              ${randomUUID()}, null, ${replyTo}::int,
              ${mentions.length ? sql`array[${sql.join(mentions, sql`, `)}]::uuid[]` : sql`null`})`,
      );
    await send(a, `hello room ${i}`, null, []);
    await send(b, `pineapple pizza ${i}`, null, []);
    await send(c, `agreed ${i}`, 1, [a]);
    await send(a, `last ${i}`, null, []);
    await db.execute(
      sql`insert into message_reactions (conversation_id, seq, emoji, user_id)
          values (${id}, 1, '👍', ${b}), (${id}, 1, '👍', ${c}), (${id}, 2, '🎉', ${a})`,
    );
    await db.execute(
      sql`insert into push_deliveries (conversation_id, seq, endpoint, user_id)
          values (${id}, 4, ${`https://push.example/${i}`}, ${c})`,
    );
    await db.execute(
      sql`insert into webhook_events (conversation_id, type, seq)
          values (${id}, 'message.created', 1), (${id}, 'message.created', 2)`,
    );
  }
  // An edit of the first message of the first conversation, as editMessage stores one.
  const first = conversations[0]!;
  await db.execute(
    sql`insert into message_edits (conversation_id, seq, version, body)
        select conversation_id, seq, 1, body from messages where conversation_id = ${first} and seq = 1`,
  );
  await db.execute(
    sql`update conversations set last_change_seq = last_change_seq + 1 where id = ${first}`,
  );
  await db.execute(
    sql`update messages set body = 'hello room 0, edited', edited_at = now(),
          change_seq = (select last_change_seq from conversations where id = ${first})
        where conversation_id = ${first} and seq = 1`,
  );
  // A sent webhook event deleted: its id must not be given again.
  await db.execute(sql`delete from webhook_events where id = (select max(id) from webhook_events)`);
  return { users, conversations };
}

const sequences = async (db: Executor) =>
  queryRows<{ outbox: string; webhook: string }>(
    db,
    sql`select (select last_value::text from outbox_id_seq) as outbox,
               (select last_value::text from webhook_events_id_seq) as webhook`,
  );

describe.each(backends())('partitioning existing history on $name', ({ name, available }) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-partition-'));
  const jwtSecret = randomBytes(32).toString('hex');
  let target: { url?: string; dataDir?: string };
  let seeded: Seeded;
  let before: Record<string, string>;
  let beforeSequences: { outbox: string; webhook: string };
  let app: TestApp;
  let tokens: string[];

  beforeAll(async () => {
    if (!available) return;
    target =
      name === 'postgres'
        ? { url: await createDatabase(inject('postgresUrl'), 'parley', { empty: true }) }
        : { dataDir: path.join(dir, 'data') };
    const old = await openDatabase({
      ...target,
      statementTimeoutMs: 30_000,
      migrationsFolder: migrationsUpTo(BEFORE),
    });
    const [plain] = await queryRows<{ n: number }>(
      old.db,
      sql`select count(*)::int as n from pg_partitioned_table`,
    );
    expect(plain!.n).toBe(0);
    seeded = await seed(old.db);
    before = await fingerprint(old.db);
    [beforeSequences] = (await sequences(old.db)) as [{ outbox: string; webhook: string }];
    await old.close();
    const issuer = createTokenService(jwtSecret, '1h');
    tokens = await Promise.all(seeded.users.map((id) => issuer.issue(id)));
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!available)(
    'keeps every row, in tables partitioned by conversation_id, with ids going on',
    async () => {
      // Migrated by opening it, as a new version of the server does at start.
      const migrated = await openDatabase({ ...target, statementTimeoutMs: 30_000 });
      try {
        expect(await fingerprint(migrated.db)).toEqual(before);
        expect(before['messages']).toMatch(new RegExp(`^${CONVERSATIONS * 4} `));
        expect(await sequences(migrated.db)).toEqual([beforeSequences]);

        const partitioned = await queryRows<{ table: string; strategy: string; parts: number }>(
          migrated.db,
          sql`select c.relname as table, p.partstrat as strategy,
                     (select count(*)::int from pg_inherits i where i.inhparent = c.oid) as parts
                from pg_partitioned_table p join pg_class c on c.oid = p.partrelid
               order by c.relname`,
        );
        expect(partitioned).toEqual(
          [...PARTITIONED].sort().map((table) => ({ table, strategy: 'h', parts: 16 })),
        );
        // The conversations' rows are spread over partitions, each conversation in one.
        const [spread] = await queryRows<{ partitions: number; split: number }>(
          migrated.db,
          sql`select count(distinct tableoid)::int as partitions,
                     (select count(*)::int from (select conversation_id from messages
                        group by conversation_id having count(distinct tableoid) > 1) s) as split
                from messages`,
        );
        expect(spread!.partitions).toBeGreaterThan(1);
        expect(spread!.split).toBe(0);
        // A new webhook event takes the id after the last one given, not after the last kept.
        const [event] = await queryRows<{ id: string }>(
          migrated.db,
          sql`insert into webhook_events (conversation_id, type, seq)
              values (${seeded.conversations[0]!}, 'message.created', 4) returning id::text`,
        );
        expect(Number(event!.id)).toBe(Number(beforeSequences.webhook) + 1);
      } finally {
        await migrated.close();
      }
    },
    60_000,
  );

  it.skipIf(!available)(
    'serves the old history through the API, and new sends go on gap-free',
    async () => {
      app = await startApp(name, {
        ...(target.url ? { databaseUrl: target.url } : {}),
        ...(target.dataDir ? { embeddedDataDir: target.dataDir } : {}),
        env: { JWT_SECRET: jwtSecret },
      });
      const [a, b, c] = seeded.users as [string, string, string];
      const [tokenA, tokenB] = tokens as [string, string];
      const first = seeded.conversations[0]!;
      const history = async (id: string) =>
        ok(await app.gql<History>(HISTORY, { id }, tokenA)).messages.edges.map((e) => e.node);

      expect(await history(first)).toEqual([
        {
          seq: 1,
          body: 'hello room 0, edited',
          sender: { id: a },
          replyTo: null,
          mentions: [],
          reactions: [{ emoji: '👍', count: 2 }],
          edits: [{ body: 'hello room 0' }],
        },
        {
          seq: 2,
          body: 'pineapple pizza 0',
          sender: { id: b },
          replyTo: null,
          mentions: [],
          reactions: [{ emoji: '🎉', count: 1 }],
          edits: [],
        },
        {
          seq: 3,
          body: 'agreed 0',
          sender: { id: c },
          replyTo: { seq: 1 },
          mentions: [{ id: a }],
          reactions: [],
          edits: [],
        },
        {
          seq: 4,
          body: 'last 0',
          sender: { id: a },
          replyTo: null,
          mentions: [],
          reactions: [],
          edits: [],
        },
      ]);

      // Search: in one conversation, and across all of them.
      const found = async (vars: Record<string, unknown>) =>
        ok(
          await app.gql<{ searchMessages: { edges: { node: { body: string } }[] } }>(
            SEARCH,
            vars,
            tokenB,
          ),
        ).searchMessages.edges.map((e) => e.node.body);
      expect(await found({ q: 'pineapple', id: seeded.conversations[3] })).toEqual([
        'pineapple pizza 3',
      ]);
      expect((await found({ q: 'pineapple' })).sort()).toEqual(
        seeded.conversations.map((_, i) => `pineapple pizza ${i}`).sort(),
      );

      // New sends take the next seqs, in every conversation, with none skipped.
      for (const [i, id] of seeded.conversations.entries()) {
        const token = tokens[i % 3]!;
        for (const n of [5, 6]) {
          const sent = ok(
            await app.gql<{ sendMessage: { seq: number } }>(
              SEND,
              { id, body: `after ${n}`, cid: randomUUID() },
              token,
            ),
          );
          expect(sent.sendMessage.seq).toBe(n);
        }
        expect((await history(id)).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      }
      // …and land in the partition that holds the conversation's earlier messages.
      const [where] = await queryRows<{ partitions: number }>(
        app.database.db,
        sql`select count(distinct tableoid)::int as partitions from messages
             where conversation_id = ${first}`,
      );
      expect(where!.partitions).toBe(1);
    },
    60_000,
  );
});
