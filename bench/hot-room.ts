// One big room: 1,000 members sending into one conversation over both instances at once, as
// fast as the servers answer. Afterwards the room's messages must be numbered 1..N without a
// hole or a repeat, every acknowledged seq among them and none acknowledged twice. Meanwhile
// (with `quiet`) other members send into quiet conversations at a low rate: what the room costs a
// send elsewhere, since an instance's batches mix conversations (db/send-batches.ts).
import postgres from 'postgres';
import type { ServerProcess } from '../test/support/process.js';
import { runJob } from './harness.js';

export const HOT_ROOM_CONNECTIONS_PER_INSTANCE = 64;
/** Sends per second into quiet conversations while the room runs. */
export const HOT_ROOM_QUIET_RATE = 50;

interface LoadResult {
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
  /** The seq of every acknowledged send. */
  acked: number[];
}

export async function hotRoom(
  servers: readonly ServerProcess[],
  databaseUrl: string,
  room: { id: string; memberTokens: readonly string[] },
  seconds: number,
  quiet?: { work: readonly { token: string; conversationId: string }[]; rate: number },
) {
  const work = room.memberTokens.map((token) => ({ token, conversationId: room.id }));
  const quietRun = quiet
    ? Promise.all(
        servers.map((server, i) =>
          runJob<Omit<LoadResult, 'acked'>>('load-http.ts', {
            url: server.url.replace('/graphql', ''),
            mode: 'send',
            connections: 4,
            seconds,
            work: quiet.work.filter((_, k) => k % servers.length === i),
            overallRate: quiet.rate / servers.length,
          }),
        ),
      )
    : Promise.resolve(null);
  const parts = await Promise.all(
    servers.map((server, i) =>
      runJob<LoadResult>('load-http.ts', {
        url: server.url.replace('/graphql', ''),
        // Sends like 'send' and reports the seq of every acknowledged message.
        mode: 'lag',
        connections: HOT_ROOM_CONNECTIONS_PER_INSTANCE,
        seconds,
        work: work.filter((_, k) => k % servers.length === i),
      }),
    ),
  );
  const quietParts = await quietRun;
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const [check] = await sql<{ n: number; seqs: number; top: number; last: number; ids: number }[]>`
    select count(*)::int as n, count(distinct m.seq)::int as seqs, coalesce(max(m.seq), 0) as top,
           (select last_seq from conversations where id = ${room.id}) as last,
           count(distinct m.client_message_id)::int as ids
      from messages m where m.conversation_id = ${room.id}`;
  await sql.end();
  const acked = parts.flatMap((p) => p.acked);
  return {
    requests: parts.reduce((n, p) => n + p.requests, 0),
    perSecond: parts.reduce((n, p) => n + p.perSecond, 0),
    p50: Math.max(...parts.map((p) => p.p50)),
    p99: Math.max(...parts.map((p) => p.p99)),
    errors: parts.reduce((n, p) => n + p.errors, 0),
    acknowledged: acked.length,
    /** Stored: sends still in flight when the load stopped are stored but not acknowledged. */
    stored: check!.n,
    /** Seqs run 1..N with neither a hole nor a repeat, and the room's last seq is N. */
    gapFree: check!.seqs === check!.n && check!.top === check!.n && check!.last === check!.n,
    /** Acknowledged with a seq the room does not hold (none, when gap-free and ≤ N). */
    lost: acked.filter((seq) => seq < 1 || seq > check!.n).length,
    /** Stored twice (one client message id, two rows), or two sends acknowledged with one seq. */
    duplicated: check!.n - check!.ids + (acked.length - new Set(acked).size),
    /** Sends into quiet conversations during the run. */
    quiet: quietParts && {
      perSecond: quietParts.reduce((n, p) => n + p.perSecond, 0),
      p50: Math.max(...quietParts.map((p) => p.p50)),
      p99: Math.max(...quietParts.map((p) => p.p99)),
      errors: quietParts.reduce((n, p) => n + p.errors, 0),
    },
  };
}
