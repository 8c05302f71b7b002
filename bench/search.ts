// The search scenario: searchMessages over GraphQL HTTP on the seeded history (bench/history-text.ts
// makes its bodies). SEARCH_USERS fresh users each join SEARCH_CONVERSATIONS_PER_USER of the
// history's conversations (none shared), so each searches that many × the history per
// conversation; every query kind runs across all of the caller's conversations and within one,
// first one request at a time, then from SEARCH_CLIENTS clients at once (a load process, both
// instances). Then what each query matches (counted in SQL, for the first user), and EXPLAIN
// (ANALYZE, BUFFERS) of the slowest case's statement: the one the server runs, captured from
// src/db/search.ts. The memberships are removed afterwards, so later scenarios see the seed as it
// was.
import { randomUUID } from 'node:crypto';
import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import postgres from 'postgres';
import type { Executor } from '../src/db/client.js';
import { searchMessageRows } from '../src/db/search.js';
import { hashPassword } from '../src/domain/auth.js';
import { containsPattern, searchLimits } from '../src/domain/search.js';
import type { ServerProcess } from '../test/support/process.js';
import { log, runJob } from './harness.js';
import type { SearchCaseResult, SearchJob } from './load-search.js';

export const SEARCH_USERS = 8;
/** BENCH_SEARCH_CONVERSATIONS changes it. */
export const SEARCH_CONVERSATIONS_PER_USER = Number(process.env.BENCH_SEARCH_CONVERSATIONS ?? 20);
export const SEARCH_CLIENTS = 8;
const SEQUENTIAL_REQUESTS = 40;
const PAGE_SIZE = searchLimits.defaultPageSize;

/** What each kind looks for (see bench/history-text.ts for how often each occurs). */
export const SEARCH_KINDS = [
  // VOCABULARY's 10th word: in ~15 % of messages.
  { kind: 'common word', query: 'meeting' },
  // One of RARE: ~1 message in 4,000.
  { kind: 'rare word', query: 'quokka' },
  // Two words of ranks ~50–60: both in the same message rarely, either often.
  { kind: 'two words', query: 'project update' },
  // Part of 'message', 'messages' and 'passage': no word matches, trigrams only.
  { kind: 'substring', query: 'ssag' },
  // A word of CJK_VOCABULARY (office), in ~1 % of messages.
  { kind: 'CJK', query: '办公室' },
] as const;

export interface SearchCase extends SearchCaseResult {
  kind: string;
  /** Messages the query matches (what searchMessages pages through), for the first user. */
  matches: number;
}

export interface SearchResult {
  users: number;
  conversationsPerUser: number;
  messagesPerUser: number;
  pageSize: number;
  cases: SearchCase[];
  /** The slowest case (1 client, p50) and its statement's EXPLAIN (ANALYZE, BUFFERS). */
  explained: { kind: string; scope: string; query: string; plan: string[] };
}

export async function searchScenario(
  servers: readonly ServerProcess[],
  databaseUrl: string,
  conversationIds: readonly string[],
  historyPerConversation: number,
  issue: (userId: string) => Promise<string>,
  seconds: number,
): Promise<SearchResult> {
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  const hash = await hashPassword('bench password');
  const users = Array.from({ length: SEARCH_USERS }, (_, i) => ({
    id: randomUUID(),
    phone: `+1998${String(i).padStart(7, '0')}`,
    display_name: `Searcher ${i}`,
    password_hash: hash,
  }));
  await sql`insert into users ${sql(users)}`;
  const theirs = users.map((_, u) =>
    Array.from(
      { length: SEARCH_CONVERSATIONS_PER_USER },
      (_, k) => conversationIds[(u * SEARCH_CONVERSATIONS_PER_USER + k) % conversationIds.length]!,
    ),
  );
  const memberships = users.flatMap((user, u) =>
    theirs[u]!.map((id) => ({ conversation_id: id, user_id: user.id })),
  );
  await sql`insert into conversation_members ${sql(memberships)}`;
  await sql`analyze conversation_members`;
  try {
    const cases = SEARCH_KINDS.flatMap(({ kind, query }) =>
      (['all', 'one'] as const).map((scope) => ({ name: kind, query, scope })),
    );
    const job: SearchJob = {
      urls: servers.map((s) => s.url),
      users: await Promise.all(
        users.map(async (user, u) => ({
          token: await issue(user.id),
          conversationIds: theirs[u]!,
        })),
      ),
      cases,
      sequential: SEQUENTIAL_REQUESTS,
      clients: SEARCH_CLIENTS,
      seconds,
      first: PAGE_SIZE,
    };
    const measured = await runJob<SearchCaseResult[]>('load-search.ts', job);
    const withMatches: SearchCase[] = [];
    for (const m of measured) {
      const conversationId = m.scope === 'one' ? theirs[0]![0]! : null;
      const [row] = await sql<{ n: number }[]>`
        select count(*)::int as n
          from conversation_members cm
          join messages m on m.conversation_id = cm.conversation_id
         where cm.user_id = ${users[0]!.id}
           and (${conversationId}::uuid is null or cm.conversation_id = ${conversationId}::uuid)
           and m.deleted_at is null and m.body is not null and m.kind = 'USER'
           and (m.body_tsv @@ websearch_to_tsquery('simple', ${m.query})
                or m.body ilike ${containsPattern(m.query)})`;
      withMatches.push({ ...m, kind: m.name, matches: row!.n });
    }
    const slowest = withMatches.reduce((x, y) => (y.sequential.p50 > x.sequential.p50 ? y : x));
    log(
      `search: EXPLAIN (ANALYZE, BUFFERS) of the slowest case, ${slowest.kind} (${slowest.scope})`,
    );
    const statement = await searchStatement(sql, {
      text: slowest.query,
      pattern: containsPattern(slowest.query),
      userId: users[0]!.id,
      conversationId: slowest.scope === 'one' ? theirs[0]![0]! : null,
      after: null,
      limit: PAGE_SIZE + 1,
    });
    const plan = await sql.unsafe<{ 'QUERY PLAN': string }[]>(
      `explain (analyze, buffers) ${statement.sql}`,
      statement.params as postgres.ParameterOrJSON<never>[],
    );
    return {
      users: SEARCH_USERS,
      conversationsPerUser: SEARCH_CONVERSATIONS_PER_USER,
      messagesPerUser: SEARCH_CONVERSATIONS_PER_USER * historyPerConversation,
      pageSize: PAGE_SIZE,
      cases: withMatches,
      explained: {
        kind: slowest.kind,
        scope: slowest.scope,
        query: slowest.query,
        plan: plan.map((r) => r['QUERY PLAN']),
      },
    };
  } finally {
    await sql`delete from conversation_members where user_id = any(${users.map((u) => u.id)}::uuid[])`;
    await sql.end();
  }
}

/**
 * The search statement searchMessageRows sends for `q`: its statements are run (the caller's
 * conversations are read first) and the last one, the search, is returned.
 */
async function searchStatement(sql: postgres.Sql, q: Parameters<typeof searchMessageRows>[1]) {
  const dialect = new PgDialect();
  let captured: { sql: string; params: unknown[] } | undefined;
  const capture = {
    execute: (query: SQL) => {
      captured = dialect.sqlToQuery(query);
      return sql.unsafe(captured.sql, captured.params as postgres.ParameterOrJSON<never>[]);
    },
  } as unknown as Executor;
  await searchMessageRows(capture, q);
  return captured!;
}

const PLAN_LINES = 25;

export function printSearch(s: SearchResult) {
  console.log(
    `\nsearch: ${s.users} users, each in ${s.conversationsPerUser} conversations (${s.messagesPerUser} messages), pages of ${s.pageSize}; 1 client, then ${SEARCH_CLIENTS} clients, over both instances`,
  );
  console.log(
    '  kind          scope  query            matches  page   1 client p50/p99 ms   8 clients req/s  p50/p99 ms   errors',
  );
  for (const c of s.cases) {
    console.log(
      `  ${c.kind.padEnd(13)} ${c.scope.padEnd(6)} ${`'${c.query}'`.padEnd(16)} ${String(c.matches).padStart(7)} ${c.pageHits.toFixed(0).padStart(5)}   ${c.sequential.p50.toFixed(1).padStart(8)} / ${c.sequential.p99.toFixed(1).padEnd(8)}   ${c.concurrent.perSecond.toFixed(0).padStart(12)}  ${c.concurrent.p50.toFixed(1).padStart(7)} / ${c.concurrent.p99.toFixed(1).padEnd(8)} ${String(c.errors).padStart(4)}`,
    );
    if (c.firstError) console.log(`    first error: ${c.firstError}`);
  }
  console.log(
    `  matches: all the messages the query matches (first user); page: hits on the first page. Slowest (1 client, p50): ${s.explained.kind}, ${s.explained.scope === 'all' ? 'all conversations' : 'one conversation'}; its statement's EXPLAIN (ANALYZE, BUFFERS):`,
  );
  for (const line of s.explained.plan.slice(0, PLAN_LINES)) console.log(`    ${line}`);
  if (s.explained.plan.length > PLAN_LINES) {
    console.log(`    … (${s.explained.plan.length - PLAN_LINES} more lines; all in the JSON)`);
    for (const line of s.explained.plan.filter((l) => /^(Planning|Execution) Time/.test(l)))
      console.log(`    ${line}`);
  }
}
