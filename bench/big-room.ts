// The big room: a PUBLIC group of 10,000 members taking a steady stream of messages while other
// members join and leave, with some of its members (1,000 by default) subscribed to messageAdded,
// half on each instance. Every subscriber must get every message of the run exactly once and in
// order, the MEMBER_JOINED and MEMBER_LEFT system messages included (they take seqs like any
// message, so the check is seq continuity per subscriber). Then the database's cost of one join
// and one leave, each counted alone.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { hashPassword } from '../src/domain/auth.js';
import type { ServerProcess } from '../test/support/process.js';
import type { dbStats } from './db-stats.js';
import { perOperation } from './db-stats.js';
import { ask, child, log } from './harness.js';
import { cpuOf } from './proc.js';

export const BIG_ROOM_MEMBERS = 10_000;
/**
 * About 20 room events a second (half of them the system messages of joins and leaves) to 1,000
 * sockets: as many deliveries as the fan-out scenario at 10 messages/s, which a 2-core machine
 * holds, so what goes wrong is the membership changes', not fan-out's. The issue's example
 * (2,000 subscribers, 20 messages/s) is BENCH_BIGROOM_SUBSCRIBERS=2000 BENCH_BIGROOM_RATE=20.
 */
export interface BigRoomLoad {
  subscribers: number;
  sendsPerSecond: number;
  seconds: number;
}
export const BIG_ROOM_LOAD: BigRoomLoad = { subscribers: 1_000, sendsPerSecond: 10, seconds: 15 };
/** Members who send (not subscribed, never leaving). */
const SENDERS = 10;
const JOINS_PER_SECOND = 5;
const LEAVES_PER_SECOND = 5;
/** Joins, then leaves, one at a time, whose statements are counted (after the run). */
const COUNTED = 40;
/** Requests of one kind in flight at most: past it the scenario skips (and says so). */
const MAX_IN_FLIGHT = 200;
const REQUEST_TIMEOUT_MS = 30_000;
/** How long the subscribers get to receive everything after the last send. */
const DRAIN_LIMIT_MS = 30_000;
/** Per addMembers call (the contract's most). */
const PHONES_PER_CALL = 2_000;
/** What a chat client in a room with system messages asks for. */
const SELECTION = 'id seq kind body createdAt sender { id displayName } systemEvent { type }';

const SEND = 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { seq } }';
const JOIN = 'mutation($id: ID) { joinConversation(conversationId: $id) { id memberCount } }';
const LEAVE = 'mutation($id: ID!) { leaveConversation(conversationId: $id) }';

type Stats = ReturnType<typeof dbStats>;

interface Answer<T> {
  data?: T;
  error?: string;
}

/** One GraphQL request over HTTP, never longer than REQUEST_TIMEOUT_MS; errors as a string. */
async function post<T>(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  token: string,
): Promise<Answer<T>> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = (await res.json()) as { data?: T | null; errors?: { message: string }[] };
    if (body.errors?.length || !body.data) {
      return { error: body.errors?.map((e) => e.message).join('; ') ?? `HTTP ${res.status}` };
    }
    return { data: body.data };
  } catch (err) {
    return { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

async function ok<T>(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  token: string,
): Promise<T> {
  const answer = await post<T>(url, query, variables, token);
  if (!answer.data) throw new Error(`big room: ${answer.error}\n${query}`);
  return answer.data;
}

function percentiles(values: number[]) {
  const sorted = [...values].sort((x, y) => x - y);
  const pct = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
  return { p50: pct(0.5), p99: pct(0.99), max: sorted.at(-1) ?? 0 };
}

/** Requests of one kind: their latencies and errors (the first few kept to tell). */
class Tally {
  readonly latencies: number[] = [];
  errors = 0;
  skipped = 0;
  readonly firstErrors: string[] = [];
  readonly inFlight = new Set<Promise<unknown>>();

  run<T>(request: () => Promise<Answer<T>>, onData?: (data: T, startedAt: number) => void) {
    if (this.inFlight.size >= MAX_IN_FLIGHT) {
      this.skipped++;
      return;
    }
    const startedAt = Date.now();
    const t = performance.now();
    const pending: Promise<unknown> = request()
      .then((answer) => {
        if (answer.data) {
          this.latencies.push(performance.now() - t);
          onData?.(answer.data, startedAt);
        } else {
          this.errors++;
          if (this.firstErrors.length < 3) this.firstErrors.push(answer.error ?? '?');
        }
      })
      .finally(() => this.inFlight.delete(pending));
    this.inFlight.add(pending);
  }

  summary(seconds: number) {
    const { p50, p99, max } = percentiles(this.latencies);
    return {
      done: this.latencies.length,
      perSecond: this.latencies.length / seconds,
      p50,
      p99,
      max,
      errors: this.errors,
      skipped: this.skipped,
      firstErrors: this.firstErrors,
    };
  }
}

/**
 * Who waits for a lock during the run, and what the transaction holding it is doing: sampled from
 * pg_stat_activity every SAMPLE_MS (its own connection). A holder `idle in transaction` is
 * waiting for its instance to send the next statement of a transaction open under the lock;
 * `active`, for PostgreSQL. Also which statements took PostgreSQL's time over the run
 * (pg_stat_statements, reset when sampling starts: lock waits count in a statement's time).
 */
const SAMPLE_MS = 250;

function lockSampler(databaseUrl: string) {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  let samples = 0;
  let withWaiters = 0;
  let waiterSum = 0;
  let maxWaiters = 0;
  const holderStates = new Map<string, number>();
  const holderQueries = new Map<string, number>();
  /** How long the holder had been in its state (running its statement, or idle) when seen. */
  const inState: Record<string, number[]> = {};
  let stopped = false;
  const loop = (async () => {
    await sql`create extension if not exists pg_stat_statements`;
    await sql`select pg_stat_statements_reset()`;
    while (!stopped) {
      const rows = await sql<
        { waiters: number; state: string | null; query: string; in_state_ms: number }[]
      >`
        with w as (
          select a.pid, unnest(pg_blocking_pids(a.pid)) as holder
            from pg_stat_activity a
           where a.datname = current_database() and a.wait_event_type = 'Lock')
        select (select count(distinct pid) from w)::int as waiters,
               h.state || coalesce(' (' || h.wait_event_type || ': ' || h.wait_event || ')', '') as state,
               left(regexp_replace(h.query, '[[:space:]]+', ' ', 'g'), 70) as query,
               coalesce(extract(epoch from now() - h.state_change) * 1000, 0)::float8 as in_state_ms
          from (select distinct holder from w) d
          join pg_stat_activity h on h.pid = d.holder
         -- The head of the queue: waiters queued ahead of a waiter block it too.
         where h.wait_event_type is distinct from 'Lock'
        union all
        select (select count(distinct pid) from w)::int, null, '', 0
         where not exists (select 1 from w)`.catch(() => []);
      samples++;
      const waiters = rows[0]?.waiters ?? 0;
      waiterSum += waiters;
      maxWaiters = Math.max(maxWaiters, waiters);
      if (waiters > 0) withWaiters++;
      for (const r of rows) {
        if (r.state === null) continue;
        holderStates.set(r.state, (holderStates.get(r.state) ?? 0) + 1);
        holderQueries.set(r.query, (holderQueries.get(r.query) ?? 0) + 1);
        (inState[r.state] ??= []).push(r.in_state_ms);
      }
      await sleep(SAMPLE_MS);
    }
  })();
  // Awaited when sampling stops; until then a failure must not be an unhandled rejection.
  loop.catch(() => {});
  return async () => {
    stopped = true;
    await loop;
    const statements = await sql<
      { calls: number; mean_ms: number; max_ms: number; total_ms: number; query: string }[]
    >`
      select calls::int, mean_exec_time::float8 as mean_ms, max_exec_time::float8 as max_ms,
             total_exec_time::float8 as total_ms,
             left(regexp_replace(query, '[[:space:]]+', ' ', 'g'), 90) as query
        from pg_stat_statements
       where dbid = (select oid from pg_database where datname = current_database())
         and query not ilike '%pg_stat%'
       order by total_exec_time desc limit 8`;
    await sql.end();
    const top = (m: Map<string, number>, n: number) =>
      Object.fromEntries([...m].sort((x, y) => y[1] - x[1]).slice(0, n));
    return {
      samples,
      /** Share of samples in which some statement waited for a lock. */
      withWaiters: samples ? withWaiters / samples : 0,
      meanWaiters: samples ? waiterSum / samples : 0,
      maxWaiters,
      /** Lock holders seen, by state (and what they waited for, if anything), and their statement. */
      holderStates: top(holderStates, 5),
      holderQueries: top(holderQueries, 3),
      holderInStateMs: Object.fromEntries(
        Object.entries(inState).map(([state, values]) => [state, percentiles(values)]),
      ),
      /** The statements that took PostgreSQL the most time over the run. */
      statements,
    };
  };
}

interface Range {
  clients: number;
  complete: number;
  lost: number;
  duplicated: number;
  inRange: number;
  reordered: number;
}

export async function bigRoom(
  [a, b]: readonly [ServerProcess, ServerProcess],
  databaseUrl: string,
  stats: Stats,
  issue: (userId: string) => Promise<string>,
  { subscribers: subscriberCount, sendsPerSecond, seconds }: BigRoomLoad = BIG_ROOM_LOAD,
) {
  if (!Number.isInteger(subscriberCount) || subscriberCount < 1 || subscriberCount > 8_000) {
    throw new Error('big room: subscribers must be a whole number from 1 to 8,000');
  }
  if (!(sendsPerSecond > 0) || !(seconds > 0)) {
    throw new Error('big room: the send rate and the seconds must be positive');
  }
  const servers = [a, b];
  const urlOf = (i: number) => servers[i % 2]!.url;
  // Users: 0 owns the room, 1..SUBSCRIBERS subscribe, then the senders, then members who
  // leave; after the room's members, users who join (never members before).
  const joiners = Math.ceil(seconds * JOINS_PER_SECOND * 1.5) + COUNTED;
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  const seedStart = performance.now();
  const hash = await hashPassword('bench password');
  const users = Array.from({ length: BIG_ROOM_MEMBERS + joiners }, (_, i) => ({
    id: randomUUID(),
    phone: `+1998${String(i).padStart(7, '0')}`,
    display_name: `Big room ${i}`,
    password_hash: hash,
  }));
  for (let i = 0; i < users.length; i += 1_000)
    await sql`insert into users ${sql(users.slice(i, i + 1_000))}`;
  const owner = users[0]!;
  const ownerToken = await issue(owner.id);
  // The room through the API: created with 1,999 others, then addMembers 2,000 at a time.
  const members = users.slice(1, BIG_ROOM_MEMBERS);
  const addLatencies: number[] = [];
  let t = performance.now();
  const { createGroupConversation: room } = await ok<{ createGroupConversation: { id: string } }>(
    a.url,
    'mutation($input: CreateGroupConversationInput!) { createGroupConversation(input: $input) { id } }',
    {
      input: {
        title: 'Big room',
        visibility: 'PUBLIC',
        memberPhones: members.slice(0, PHONES_PER_CALL - 1).map((u) => u.phone),
      },
    },
    ownerToken,
  );
  const createMs = performance.now() - t;
  for (let i = PHONES_PER_CALL - 1; i < members.length; i += PHONES_PER_CALL) {
    t = performance.now();
    await ok(
      urlOf(i),
      'mutation($id: ID!, $phones: [String!]!) { addMembers(conversationId: $id, phones: $phones) { memberCount } }',
      { id: room.id, phones: members.slice(i, i + PHONES_PER_CALL).map((u) => u.phone) },
      ownerToken,
    );
    addLatencies.push(performance.now() - t);
  }
  const [check] = await sql<{ member_count: number; n: number }[]>`
    select member_count, (select count(*)::int from conversation_members where conversation_id = ${room.id}) as n
      from conversations where id = ${room.id}`;
  if (check!.n !== BIG_ROOM_MEMBERS || check!.member_count !== BIG_ROOM_MEMBERS) {
    throw new Error(
      `big room: ${check!.n} members, member_count ${check!.member_count}, not ${BIG_ROOM_MEMBERS}`,
    );
  }
  const seedMs = performance.now() - seedStart;
  log(
    `big room: ${BIG_ROOM_MEMBERS} members seeded in ${(seedMs / 1000).toFixed(1)} s (createGroupConversation with ${PHONES_PER_CALL - 1} phones ${createMs.toFixed(0)} ms, addMembers of ${PHONES_PER_CALL} ${addLatencies.map((ms) => ms.toFixed(0)).join(', ')} ms)`,
  );

  const subscribers = users.slice(1, 1 + subscriberCount);
  const senders = users.slice(1 + subscriberCount, 1 + subscriberCount + SENDERS);
  const leaverPool = users.slice(1 + subscriberCount + SENDERS, BIG_ROOM_MEMBERS);
  const joinerPool = users.slice(BIG_ROOM_MEMBERS);
  const tokensOf = (list: typeof users) => Promise.all(list.map((u) => issue(u.id)));
  const [subscriberTokens, senderTokens, leaverTokens, joinerTokens] = await Promise.all([
    tokensOf(subscribers),
    tokensOf(senders),
    tokensOf(leaverPool.slice(0, joiners)),
    tokensOf(joinerPool),
  ]);

  const load = child('load-ws.ts');
  // A subscribers' process that dies fails the scenario instead of leaving it waiting.
  const died = new Promise<never>((_, reject) =>
    load.once('exit', (code, signal) =>
      reject(new Error(`big room: the subscribers' process exited (${code ?? signal})`)),
    ),
  );
  died.catch(() => {});
  const askLoad = <T>(message: unknown, until: (reply: Record<string, unknown>) => boolean) =>
    Promise.race([ask<T>(load, message, until), died]);
  try {
    await askLoad(null, (r) => r['ready'] === true);
    await askLoad(
      {
        cmd: 'connect',
        mode: 'parley',
        wsUrls: servers.map((s) => s.url.replace('http', 'ws')),
        tokens: subscriberTokens,
        conversationId: room.id,
        selection: SELECTION,
      },
      (r) => 'connected' in r,
    );
    const report = (sent: Record<string, number>) =>
      askLoad<{ deliveries: number; lost: number; p50: number; p99: number; lastAt: number }>(
        { cmd: 'report', sent },
        (x) => 'lost' in x,
      );
    const count = () =>
      askLoad<{ deliveries: number; lastAt: number }>(
        { cmd: 'count' },
        (x) => 'deliveries' in x && !('lost' in x),
      );
    const range = (from: number, to: number) =>
      askLoad<Range>({ cmd: 'range', from, to }, (x) => x['range'] === true);
    const lastSeq = async () =>
      (
        await sql<{ last_seq: number }[]>`select last_seq from conversations where id = ${room.id}`
      )[0]!.last_seq;
    /**
     * Until every subscriber has every seq of (from, to] (bounded): the count since the last
     * reset (from is where it was reset) is polled, being cheap, then the range checked.
     */
    const drain = async (from: number, to: number) => {
      const expected = (to - from) * subscriberCount;
      const deadline = Date.now() + DRAIN_LIMIT_MS;
      while ((await count()).deliveries < expected && Date.now() < deadline) await sleep(100);
      while ((await range(from, to)).lost > 0 && Date.now() < deadline) await sleep(250);
      return count();
    };

    // Everyone is live once everyone has received a warm-up message.
    let warmedUp = false;
    for (let i = 0; i < 60 && !warmedUp; i++) {
      const { sendMessage } = await ok<{ sendMessage: { seq: number } }>(
        urlOf(i),
        SEND,
        { i: { conversationId: room.id, body: `warm-up ${i}` } },
        senderTokens[0]!,
      );
      await sleep(200);
      warmedUp = (await report({ [sendMessage.seq]: 0 })).lost === 0;
    }
    if (!warmedUp) throw new Error('big room: the subscribers never all received a warm-up');
    await sleep(1_000); // connections settle, stray warm-ups arrive
    await askLoad({ cmd: 'reset' }, (r) => r['reset'] === true);
    const startSeq = await lastSeq();

    log(
      `big room: ${sendsPerSecond} messages/s from ${SENDERS} members, ${JOINS_PER_SECOND} joins/s and ${LEAVES_PER_SECOND} leaves/s, ${subscriberCount} subscribers, ${seconds} s`,
    );
    const sends = new Tally();
    const joins = new Tally();
    const leaves = new Tally();
    /** seq → when the send was made, and when it was acknowledged (user messages only). */
    const sentAt: Record<string, number> = {};
    const ackedAt: Record<string, number> = {};
    const serversCpu = () => cpuOf(a.child.pid!) + cpuOf(b.child.pid!);
    const cpu0 = serversCpu();
    const stopSampling = lockSampler(databaseUrl);
    const t0 = Date.now();
    let sent = 0;
    let joined = 0;
    let left = 0;
    while (Date.now() < t0 + seconds * 1000) {
      const elapsed = (Date.now() - t0) / 1000;
      for (; sent < Math.floor(elapsed * sendsPerSecond); sent++) {
        const n = sent;
        sends.run(
          () =>
            post<{ sendMessage: { seq: number } }>(
              urlOf(n),
              SEND,
              { i: { conversationId: room.id, body: `big room ${n}` } },
              senderTokens[n % SENDERS]!,
            ),
          (data, startedAt) => {
            sentAt[data.sendMessage.seq] = startedAt;
            ackedAt[data.sendMessage.seq] = Date.now();
          },
        );
      }
      for (; joined < Math.floor(elapsed * JOINS_PER_SECOND); joined++) {
        const n = joined;
        joins.run(() => post(urlOf(n), JOIN, { id: room.id }, joinerTokens[n]!));
      }
      for (; left < Math.floor(elapsed * LEAVES_PER_SECOND); left++) {
        const n = left;
        leaves.run(() => post(urlOf(n + 1), LEAVE, { id: room.id }, leaverTokens[n]!));
      }
      await sleep(10);
    }
    const loadEnd = Date.now();
    await Promise.all([sends, joins, leaves].flatMap((x) => [...x.inFlight]));
    const locks = await stopSampling();
    const endSeq = await lastSeq();
    const drained = await drain(startSeq, endSeq);
    const cpu = serversCpu() - cpu0;
    const main = await range(startSeq, endSeq);
    const fromSend = await report(sentAt);
    const fromAck = await report(ackedAt);
    const phaseSeconds = (loadEnd - t0) / 1000;
    const deliverySeconds = (drained.lastAt - t0) / 1000;

    await askLoad({ cmd: 'reset' }, (r) => r['reset'] === true);
    const countFrom = await lastSeq();
    // What one join and one leave cost the database, each counted alone (the instances'
    // member set reloads that the change sets off included: waited for before counting ends).
    // Each adds one system message; the bench's own queries stay out of the count.
    let countTo = countFrom;
    const counted = async (
      what: string,
      request: (i: number) => Promise<Answer<unknown>>,
    ): Promise<ReturnType<typeof perOperation> & { p50: number; p99: number; errors: number }> => {
      const tally = new Tally();
      const { cost } = await stats.during(async () => {
        for (let i = 0; i < COUNTED; i++) {
          tally.run(() => request(i));
          await Promise.all(tally.inFlight);
        }
        countTo += tally.latencies.length;
        await drain(countFrom, countTo);
        await sleep(200);
      });
      const s = tally.summary(1);
      if (s.errors)
        log(`big room: ${s.errors} counted ${what} failed: ${s.firstErrors.join(' | ')}`);
      return { ...perOperation(cost, COUNTED), p50: s.p50, p99: s.p99, errors: s.errors };
    };
    const joinCost = await counted('joins', (i) =>
      post(urlOf(i), JOIN, { id: room.id }, joinerTokens[joined + i]!),
    );
    const leaveCost = await counted('leaves', (i) =>
      post(urlOf(i), LEAVE, { id: room.id }, leaverTokens[left + i]!),
    );
    const countEnd = await lastSeq();
    if (countEnd !== countTo)
      log(`big room: counted joins and leaves ended at seq ${countEnd}, not ${countTo}`);
    const counting = await range(countFrom, countEnd);

    const [final] = await sql<{ member_count: number; n: number; system: number }[]>`
      select member_count,
             (select count(*)::int from conversation_members where conversation_id = ${room.id}) as n,
             (select count(*)::int from messages where conversation_id = ${room.id}
                 and seq > ${startSeq} and seq <= ${endSeq} and kind = 'SYSTEM') as system
        from conversations where id = ${room.id}`;
    const send = sends.summary(phaseSeconds);
    return {
      /** What the instances logged for the first failed requests (their error ids). */
      serverErrors: serverErrorsOf(
        servers,
        [sends, joins, leaves].flatMap((x) => x.firstErrors),
      ),
      members: BIG_ROOM_MEMBERS,
      subscribers: subscriberCount,
      subscribersPerInstance: [Math.ceil(subscriberCount / 2), Math.floor(subscriberCount / 2)],
      seconds: phaseSeconds,
      seeding: {
        ms: seedMs,
        createGroupMs: createMs,
        addMembersMs: addLatencies,
      },
      sends: send,
      joins: joins.summary(phaseSeconds),
      leaves: leaves.summary(phaseSeconds),
      /** The run's seqs (startSeq, endSeq]: user messages and the system messages of joins and leaves. */
      startSeq,
      endSeq,
      systemMessages: final!.system,
      deliveries: main.inRange,
      deliveriesPerSecond: main.inRange / deliverySeconds,
      expectedDeliveries: (endSeq - startSeq) * subscriberCount,
      /** Send made → received, as the fan-out scenario measures; and acknowledged → received. */
      latency: { p50: fromSend.p50, p99: fromSend.p99 },
      latencyFromAck: { p50: fromAck.p50, p99: fromAck.p99 },
      lost: main.lost,
      duplicated: main.duplicated,
      reordered: main.reordered,
      subscribersComplete: main.complete,
      serverCpuUsPerDelivery: cpu / main.inRange,
      locks,
      join: joinCost,
      leave: leaveCost,
      /** The counted joins' and leaves' system messages reached every subscriber too. */
      countedPhase: {
        lost: counting.lost,
        duplicated: counting.duplicated,
        reordered: counting.reordered,
      },
      memberCountAfter: final!.member_count,
      membersAfter: final!.n,
    };
  } finally {
    load.send({ cmd: 'exit' });
    await sql.end();
  }
}

/** The instances' log entries of these answers' error ids: what failed, in a line each. */
function serverErrorsOf(servers: readonly ServerProcess[], answers: readonly string[]) {
  const ids = answers.flatMap((a) => /error id ([0-9a-f-]{36})/.exec(a)?.[1] ?? []);
  const lines = servers.flatMap((s) => s.output().split('\n'));
  return ids.map((id) => {
    const line = lines.find((l) => l.includes(id));
    if (!line) return `${id}: not in the logs`;
    try {
      const entry = JSON.parse(line) as { path?: unknown; err?: unknown };
      // The error and its causes: their first lines and codes (PostgreSQL's SQLSTATE).
      const said: string[] = [];
      const walk = (e: unknown) => {
        if (!e || typeof e !== 'object') return;
        const { message, code, cause, query } = e as Record<string, unknown>;
        if (typeof message === 'string') {
          const first = message.split('\n')[0]!.slice(0, 100);
          const sql =
            typeof query === 'string' ? ` [${query.replace(/\s+/g, ' ').slice(0, 70)}]` : '';
          said.push(`${first}${code ? ` (${String(code)})` : ''}${sql}`);
        }
        walk(cause);
      };
      walk(entry.err);
      return `${id}: ${JSON.stringify(entry.path)} ${said.join(' ← ') || line.slice(0, 300)}`;
    } catch {
      return `${id}: ${line.slice(0, 300)}`;
    }
  });
}

export type BigRoom = Awaited<ReturnType<typeof bigRoom>>;

const ms = (v: number) => `${v.toFixed(0)} ms`;

export function printBigRoom(r: BigRoom) {
  console.log(
    `big room: ${r.members.toLocaleString('en')} members (PUBLIC), ${r.subscribers.toLocaleString('en')} subscribed (${r.subscribersPerInstance.join(' + ')} on the two instances), ${r.seconds.toFixed(0)} s: ${r.sends.perSecond.toFixed(1)} messages/s sent, ${r.joins.perSecond.toFixed(1)} joins/s, ${r.leaves.perSecond.toFixed(1)} leaves/s (errors: send ${r.sends.errors}, join ${r.joins.errors}, leave ${r.leaves.errors}${r.sends.skipped + r.joins.skipped + r.leaves.skipped ? `; skipped, too many in flight: ${r.sends.skipped + r.joins.skipped + r.leaves.skipped}` : ''})`,
  );
  console.log(
    `  deliveries ${r.deliveries} of ${r.expectedDeliveries} (${r.endSeq - r.startSeq} seqs, ${r.systemMessages} of them system messages), ${r.deliveriesPerSecond.toFixed(0)}/s; latency p50 ${ms(r.latency.p50)}, p99 ${ms(r.latency.p99)} from the send (from its acknowledgement: p50 ${ms(r.latencyFromAck.p50)}, p99 ${ms(r.latencyFromAck.p99)}); lost ${r.lost}, duplicated ${r.duplicated}, out of order ${r.reordered}; ${r.subscribersComplete} of ${r.subscribers} subscribers complete`,
  );
  console.log(
    `  send p50 ${ms(r.sends.p50)}, p99 ${ms(r.sends.p99)}; join p50 ${ms(r.joins.p50)}, p99 ${ms(r.joins.p99)}; leave p50 ${ms(r.leaves.p50)}, p99 ${ms(r.leaves.p99)}; server CPU per delivery (both instances, all requests included) ${r.serverCpuUsPerDelivery.toFixed(1)} µs`,
  );
  console.log(
    `  alone (${COUNTED} each, one at a time): ${r.join.statements.toFixed(1)} statements and ${r.join.commits.toFixed(2)} writing commits per join (p50 ${ms(r.join.p50)}, p99 ${ms(r.join.p99)}), ${r.leave.statements.toFixed(1)} and ${r.leave.commits.toFixed(2)} per leave (p50 ${ms(r.leave.p50)}, p99 ${ms(r.leave.p99)}); their system messages: lost ${r.countedPhase.lost}, duplicated ${r.countedPhase.duplicated}; member_count ${r.memberCountAfter} ${r.memberCountAfter === r.membersAfter ? '=' : 'BUT'} ${r.membersAfter} member rows; seeded in ${(r.seeding.ms / 1000).toFixed(1)} s (addMembers of ${PHONES_PER_CALL}: ${r.seeding.addMembersMs.map((v) => v.toFixed(0)).join(', ')} ms)`,
  );
  const l = r.locks;
  console.log(
    `  locks (pg_stat_activity every ${SAMPLE_MS} ms during the run): statements waiting in ${(100 * l.withWaiters).toFixed(0)} % of samples, ${l.meanWaiters.toFixed(1)} on average, ${l.maxWaiters} at most; the holder seen ${Object.entries(
      l.holderStates,
    )
      .map(
        ([state, n]) =>
          `${state} ${n}× (in that state p50 ${ms(l.holderInStateMs[state]?.p50 ?? 0)}, max ${ms(l.holderInStateMs[state]?.max ?? 0)})`,
      )
      .join(', ')}; its commonest statement: ${Object.keys(l.holderQueries)[0] ?? '-'}`,
  );
  console.log('  PostgreSQL time during the run (pg_stat_statements, the 8 costliest):');
  for (const t of l.statements)
    console.log(
      `    ${t.calls} calls, mean ${t.mean_ms.toFixed(2)} ms, max ${t.max_ms.toFixed(0)} ms, total ${t.total_ms.toFixed(0)} ms: ${t.query}`,
    );
  for (const line of r.serverErrors) console.log(`  server log: ${line}`);
  for (const [kind, t] of [
    ['send', r.sends],
    ['join', r.joins],
    ['leave', r.leaves],
  ] as const) {
    if (t.firstErrors.length) console.log(`  first ${kind} errors: ${t.firstErrors.join(' | ')}`);
  }
}
