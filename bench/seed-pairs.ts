// A history for the page and send loads of bench/history-cpu.ts and bench/pooler.ts: pairs of
// users, one group conversation each, `perConversation` messages in each written by both members
// in turns. The reader (the first of each pair) has everything delivered already, as a client
// paging through history would (no delivered-mark writes after the first page). Returns the
// readers' tokens and their conversations, the load processes' work list.
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { createTokenService, hashPassword } from '../src/domain/auth.js';

export interface PairWork {
  token: string;
  conversationId: string;
}

export async function seedPairs(
  databaseUrl: string,
  opts: { conversations: number; perConversation: number; jwtSecret: string },
): Promise<PairWork[]> {
  const { perConversation } = opts;
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  const tokens = createTokenService(opts.jwtSecret, '1d');
  const hash = await hashPassword('bench password');
  const users = Array.from({ length: 2 * opts.conversations }, (_, i) => ({
    id: randomUUID(),
    phone: `+1999${String(i).padStart(7, '0')}`,
    display_name: `Bench ${i}`,
    password_hash: hash,
  }));
  await sql`insert into users ${sql(users)}`;
  const conversations = Array.from({ length: opts.conversations }, (_, i) => ({
    id: randomUUID(),
    kind: 'GROUP',
    title: `Bench ${i}`,
    last_seq: perConversation,
  }));
  await sql`insert into conversations ${sql(conversations)}`;
  await sql`insert into conversation_members ${sql(
    conversations.flatMap((c, i) => [
      { conversation_id: c.id, user_id: users[2 * i]!.id, last_delivered_seq: perConversation },
      { conversation_id: c.id, user_id: users[2 * i + 1]!.id, last_delivered_seq: perConversation },
    ]),
  )}`;
  await sql`
    insert into messages (conversation_id, seq, sender_id, body, created_at)
    select c.id, g, case when g % 2 = 0 then m.a else m.b end, 'history message ' || g,
           now() - make_interval(secs => ${perConversation} - g)
      from conversations c
      join lateral (select min(user_id::text)::uuid a, max(user_id::text)::uuid b
                      from conversation_members where conversation_id = c.id) m on true,
           generate_series(1, ${perConversation}::int) g`;
  await sql`analyze`;
  await sql.end();
  return Promise.all(
    conversations.map(async (c, i) => ({
      token: await tokens.issue(users[2 * i]!.id),
      conversationId: c.id,
    })),
  );
}
