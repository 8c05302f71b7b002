// One big room: 1,000 members sending into one conversation over both instances at once, as
// fast as the servers answer. Afterwards the room's messages must be numbered 1..N without a
// hole or a repeat, every acknowledged seq among them and none acknowledged twice. Meanwhile
// (with `quiet`) other members send into quiet conversations at a low rate: what the room costs a
// send elsewhere, since an instance's batches mix conversations (db/send-batches.ts).
import postgres from 'postgres';
import type { ServerProcess } from '../test/support/process.js';
import { loadOverServers, type HttpLoad } from './harness.js';

export const HOT_ROOM_CONNECTIONS_PER_INSTANCE = 64;
/** Sends per second into quiet conversations while the room runs. */
export const HOT_ROOM_QUIET_RATE = 50;

interface LoadResult extends HttpLoad {
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
    ? loadOverServers(servers, {
        mode: 'send',
        connections: 4,
        seconds,
        work: quiet.work,
        overallRate: quiet.rate,
      })
    : null;
  // Sends like 'send' and reports the seq of every acknowledged message.
  const { total, parts } = await loadOverServers<LoadResult>(servers, {
    mode: 'lag',
    connections: HOT_ROOM_CONNECTIONS_PER_INSTANCE,
    seconds,
    work,
  });
  const quietLoad = await quietRun;
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const [check] = await sql<{ n: number; seqs: number; top: number; last: number; ids: number }[]>`
    select count(*)::int as n, count(distinct m.seq)::int as seqs, coalesce(max(m.seq), 0) as top,
           (select last_seq from conversations where id = ${room.id}) as last,
           count(distinct m.client_message_id)::int as ids
      from messages m where m.conversation_id = ${room.id}`;
  await sql.end();
  const acked = parts.flatMap((p) => p.acked);
  return {
    ...total,
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
    quiet: quietLoad?.total ?? null,
  };
}
