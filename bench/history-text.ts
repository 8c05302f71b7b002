// The seeded history's bodies: chat-like text made in SQL, the same in every run (a message's
// words come from a hash of its conversation's place in the seed and its seq, never from random
// ids), so that search has common words, rare words, parts of words and CJK text to find.
//
// - 95 %: 8–14 words of VOCABULARY, word r (from 1) drawn with probability ~ 1/r (log-uniform
//   ranks: Zipf-like, the commonest word in ~60 % of messages, the 300th in ~0.4 %), sometimes
//   ending in . ? or !; 1 in 1,000 of them ends with one of the RARE tokens.
// - 5 %: 10–20 words of CJK_VOCABULARY written without spaces (Chinese and Japanese), ending in 。
//   or ？.
// Bodies are 18–94 characters, half under 48, nine in ten 31–66.
import type postgres from 'postgres';

/** Roughly by frequency in chat; 'message', 'messages' and 'passage' hold the substring 'ssag'. */
export const VOCABULARY = `
the i you to a and it is we meeting for that on this can be have in of at with what will just do
are so me my not but get know if about was time up one out like all now today no
your there how go tomorrow yes think when need ok some see good thanks then call back work
message would did project from they here make going team any week update let sure done more
could still new also should send right lunch them by an has well soon after check really
who because morning want our been which doc later over night next us their please much
were very tonight home day look great first last review plan before only why around into
where again thing help start file draft friday monday meet weekend talk office issue fix
release test build deploy bug link share ready long coffee dinner late early maybe never
always other same off said told email phone number list notes budget report client design
event travel flight hotel book ticket movie music party birthday gift happy nice cool funny
yeah sorry okay sounds perfect awesome probably actually though almost already enough
messages version server code branch merge change feature schedule agenda slides deadline
invoice payment order price store shop market train bus car walk run gym doctor kids school
class homework teacher family mom dad brother sister friend city park beach rain sun snow
weather cold hot warm tired busy free open closed quick slow small big old young easy hard
problem question answer reason idea story photo picture video camera screen laptop charger
battery password account login website app download upload folder backup storage network
wifi printer kitchen garden window door table chair bag key wallet coat shoes breakfast
pizza salad soup bread cheese chocolate cake tea water juice wine beer recipe restaurant
menu reservation address street station airport passport luggage holiday vacation summer
winter spring autumn january february march april june july august september october
november december noon evening midnight minute hour second moment season yesterday
passage contract proposal invitation reminder calendar decision feedback interview
customer partner manager director meetup workshop conference presentation spreadsheet
`
  .trim()
  .split(/\s+/);

/** Tokens that occur in about 1 message in 4,000 each. */
export const RARE = ['quokka', 'zeppelin', 'xylophone', 'kumquat'];

/** Chinese and Japanese words (of one to four characters) for the 5 % of CJK messages. */
export const CJK_VOCABULARY = `
我们 你 他 明天 今天 会议 项目 时间 问题 已经 可以 需要 一下 现在 下午 上午 晚上 吃饭 咖啡 工作
文件 发送 消息 检查 完成 开始 谢谢 好的 没有 什么 怎么 为什么 周末 朋友 电话 地址 飞机 酒店 天气 办公室 星期五
私たち 会議 明日 今日 時間 確認 お願い します ありがとう 資料 予定 電話 連絡 東京 駅 昼ご飯 大丈夫 了解
`
  .trim()
  .split(/\s+/);

/**
 * Inserts `perConversation` messages into each conversation (its first member by id sends them,
 * seqs 1..perConversation, one second apart, the newest now).
 */
export async function seedHistory(
  sql: postgres.Sql,
  conversationIds: readonly string[],
  perConversation: number,
) {
  // h(j): a message's j-th hash, non-negative 47 bits; u(j): the same as a fraction in [0, 1).
  const h = (j: number) => `(hashint8extended(k.key, ${j}) & 140737488355327)`;
  const u = (j: number) => `(${h(j)}::float8 / 140737488355328)`;
  // Word j of the message (null past its length): expressions, no subquery, for speed.
  const words = (count: string, most: number, word: (j: number) => string) =>
    Array.from(
      { length: most },
      (_, i) => `case when ${i + 1} <= ${count} then ${word(i + 1)} end`,
    );
  const english = words(
    `(8 + ${h(1)} % 7)`,
    14,
    (j) => `w.v[least(w.nv, floor(exp(${u(100 + j)} * ln(w.nv + 1)))::int)]`,
  );
  const cjk = words(`(10 + ${h(1)} % 11)`, 20, (j) => `w.c[1 + ${h(100 + j)} % w.nc]`);
  // The body indexes (GIN: words, drizzle/0015, and trigrams, drizzle/0012) are built once after the insert,
  // as they were made: much faster than updating them row by row.
  const gin = await sql<{ name: string; definition: string }[]>`
    select indexname as name, indexdef as definition from pg_indexes
     where tablename = 'messages' and indexdef ilike '% using gin %'`;
  for (const index of gin) await sql.unsafe(`drop index "${index.name}"`);
  // Messages go in seq by seq across the conversations (as the seed always did, and as traffic
  // would), not conversation by conversation: a page of history is spread over many blocks.
  await sql`
    insert into messages (conversation_id, seq, sender_id, body, created_at)
    select c.id, g, s.user_id, b.body, now() - make_interval(secs => ${perConversation} - g)
      from (select ${VOCABULARY}::text[] as v, ${CJK_VOCABULARY}::text[] as c,
                   ${RARE}::text[] as r) w0
     cross join lateral (select w0.*, cardinality(w0.v) as nv, cardinality(w0.c) as nc,
                                cardinality(w0.r) as nr) w
     cross join generate_series(1, ${perConversation}::int) g
     cross join unnest(${conversationIds as string[]}::uuid[]) with ordinality c(id, n)
     cross join lateral (select user_id from conversation_members m
                          where m.conversation_id = c.id order by user_id limit 1) s
     cross join lateral (select c.n * 1000000 + g as key) k
     cross join lateral (
       select case
         when ${sql.unsafe(h(0))} % 20 = 0 then
           concat_ws('', ${sql.unsafe(cjk.join(',\n'))})
           || (array['。', '？'])[1 + ${sql.unsafe(h(2))} % 2]
         else
           concat_ws(' ', ${sql.unsafe(english.join(',\n'))})
           || case when ${sql.unsafe(h(3))} % 1000 = 0
                   then ' ' || w.r[1 + ${sql.unsafe(h(4))} % w.nr]
                   else (array['', '', '.', '?', '!'])[1 + ${sql.unsafe(h(2))} % 5] end
         end as body) b
     order by g, c.n`;
  await sql.begin(async (tx) => {
    await tx`set local maintenance_work_mem = '256MB'`;
    for (const index of gin) await tx.unsafe(index.definition);
  });
}
