import { readFileSync } from 'node:fs';
// The floor under Parley's database work (its own process): postgres.js doing the same send
// transaction and the same page query directly, with as many concurrent workers.
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';

interface Job {
  databaseUrl: string;
  connections: number;
  seconds: number;
  work: { senderId: string; conversationId: string }[];
  /** One conversation that all these senders send into (the hot room), and how many at once. */
  hotRoom?: { conversationId: string; senderIds: string[]; connections: number };
}

const job = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Job;
const sql = postgres(job.databaseUrl, {
  max: Math.max(job.connections, job.hotRoom?.connections ?? 0),
  onnotice: () => {},
});

async function run(
  name: string,
  op: (w: Job['work'][number]) => Promise<unknown>,
  work = job.work,
  connections = job.connections,
) {
  const latencies: number[] = [];
  const until = Date.now() + job.seconds * 1000;
  let i = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < until) {
        const w = work[i++ % work.length]!;
        const t = performance.now();
        await op(w);
        latencies.push(performance.now() - t);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return { name, perSecond: latencies.length / job.seconds, p50: pct(0.5), p99: pct(0.99) };
}

// One statement: advance the conversation and insert the message.
const sendStatement = (w: Job['work'][number]) =>
  sql`with s as (update conversations set last_seq = last_seq + 1, updated_at = now() where id = ${w.conversationId} returning last_seq)
    insert into messages (conversation_id, seq, sender_id, body, client_message_id)
    select ${w.conversationId}, s.last_seq, ${w.senderId}, 'ceiling', ${randomUUID()} from s`;
const hot = job.hotRoom;
const results = [
  await run('send-statement', sendStatement),
  // The same statement, all into one conversation: the sends queue at its row lock.
  ...(hot
    ? [
        await run(
          'hot-room-statement',
          sendStatement,
          hot.senderIds.map((senderId) => ({ senderId, conversationId: hot.conversationId })),
          hot.connections,
        ),
      ]
    : []),
  // The same as a transaction of separate statements.
  await run('send-transaction', (w) =>
    sql.begin(async (tx) => {
      const [c] =
        await tx`update conversations set last_seq = last_seq + 1, updated_at = now() where id = ${w.conversationId} returning last_seq`;
      await tx`insert into messages (conversation_id, seq, sender_id, body, client_message_id)
               values (${w.conversationId}, ${c!.last_seq}, ${w.senderId}, 'ceiling', ${randomUUID()})`;
    }),
  ),
  await run(
    'history-page',
    (w) =>
      sql`select * from messages where conversation_id = ${w.conversationId} order by seq desc limit 50`,
  ),
];
await sql.end();
process.stdout.write(JSON.stringify(results) + '\n');
