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
}

const job = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Job;
const sql = postgres(job.databaseUrl, { max: job.connections, onnotice: () => {} });

async function run(name: string, op: (w: Job['work'][number]) => Promise<unknown>) {
  const latencies: number[] = [];
  const until = Date.now() + job.seconds * 1000;
  let i = 0;
  await Promise.all(
    Array.from({ length: job.connections }, async () => {
      while (Date.now() < until) {
        const w = job.work[i++ % job.work.length]!;
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

const results = [
  // One statement: advance the conversation and insert the message.
  await run(
    'send-statement',
    (w) =>
      sql`with s as (update conversations set last_seq = last_seq + 1, updated_at = now() where id = ${w.conversationId} returning last_seq)
        insert into messages (conversation_id, seq, sender_id, body, client_message_id)
        select ${w.conversationId}, s.last_seq, ${w.senderId}, 'ceiling', ${randomUUID()} from s`,
  ),
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
