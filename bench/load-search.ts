// Load generator (its own process) for the search scenario: searchMessages over GraphQL HTTP,
// alternating between the instances. argv[2] is a JSON job (SearchJob). For each case: a few
// warm-up requests, then `sequential` requests one at a time (1 client), then `clients` clients
// each sending its next request as soon as the last is answered, for `seconds`. Prints one line
// of JSON: a SearchCaseResult per case.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface SearchJob {
  urls: string[];
  /** The searching users: a token and the conversations they are in (the seeded history's). */
  users: { token: string; conversationIds: string[] }[];
  cases: { name: string; query: string; scope: 'all' | 'one' }[];
  sequential: number;
  clients: number;
  seconds: number;
  first: number;
}

interface Latencies {
  requests: number;
  p50: number;
  p99: number;
  mean: number;
}

export interface SearchCaseResult {
  name: string;
  query: string;
  scope: 'all' | 'one';
  sequential: Latencies;
  concurrent: Latencies & { clients: number; perSecond: number };
  /** Hits on the first page (at most `first`), averaged over the sequential requests. */
  pageHits: number;
  /** Share of the sequential requests whose first page was full (hasNextPage). */
  morePages: number;
  errors: number;
  firstError?: string;
}

const SEARCH = `query($q: String!, $c: ID, $first: Int) {
  searchMessages(query: $q, conversationId: $c, first: $first) {
    edges { cursor snippet node { id seq body createdAt sender { id } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface Answer {
  data?: { searchMessages: { edges: unknown[]; pageInfo: { hasNextPage: boolean } } };
  errors?: { message: string }[];
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : 0;

function summary(latencies: number[]): Latencies {
  const sorted = [...latencies].sort((x, y) => x - y);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    requests: sorted.length,
    p50: round(percentile(sorted, 0.5)),
    p99: round(percentile(sorted, 0.99)),
    mean: round(sorted.reduce((s, x) => s + x, 0) / Math.max(1, sorted.length)),
  };
}

async function main() {
  const job = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as SearchJob;
  const results: SearchCaseResult[] = [];
  for (const c of job.cases) {
    let errors = 0;
    let firstError: string | undefined;
    let hits = 0;
    let more = 0;
    // Request i: user i (mod users), instance i (mod 2), the user's conversation i (mod theirs).
    const search = async (i: number): Promise<number> => {
      const user = job.users[i % job.users.length]!;
      const conversationId =
        c.scope === 'one'
          ? user.conversationIds[Math.floor(i / job.users.length) % user.conversationIds.length]!
          : null;
      const t0 = performance.now();
      const res = await fetch(job.urls[i % job.urls.length]!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
        body: JSON.stringify({
          query: SEARCH,
          variables: { q: c.query, c: conversationId, first: job.first },
        }),
      });
      const text = await res.text();
      const ms = performance.now() - t0;
      const answer = JSON.parse(text) as Answer;
      if (res.status !== 200 || answer.errors || !answer.data) {
        errors++;
        firstError ??= `${res.status} ${text.slice(0, 300)}`;
      } else {
        hits += answer.data.searchMessages.edges.length;
        if (answer.data.searchMessages.pageInfo.hasNextPage) more++;
      }
      return ms;
    };
    for (let i = 0; i < 2 * job.urls.length; i++) await search(i);
    errors = 0;
    firstError = undefined;
    hits = 0;
    more = 0;
    const sequential: number[] = [];
    for (let i = 0; i < job.sequential; i++) sequential.push(await search(i));
    const sequentialHits = hits;
    const sequentialMore = more;
    const concurrent: number[] = [];
    const t0 = performance.now();
    const end = t0 + job.seconds * 1000;
    await Promise.all(
      Array.from({ length: job.clients }, async (_, client) => {
        for (let i = client; performance.now() < end; i += job.clients) {
          concurrent.push(await search(i));
        }
      }),
    );
    const elapsed = (performance.now() - t0) / 1000;
    results.push({
      name: c.name,
      query: c.query,
      scope: c.scope,
      sequential: summary(sequential),
      concurrent: {
        ...summary(concurrent),
        clients: job.clients,
        perSecond: Math.round((10 * concurrent.length) / elapsed) / 10,
      },
      pageHits: Math.round((10 * sequentialHits) / Math.max(1, job.sequential)) / 10,
      morePages: sequentialMore / Math.max(1, job.sequential),
      errors,
      ...(firstError ? { firstError } : {}),
    });
  }
  process.stdout.write(JSON.stringify(results) + '\n');
}

await main();
