// searchMessages' statements. A message matches by word (full-text, 'simple' configuration: no
// stemming, no stop words, any language) or by substring (ILIKE; text without spaces between
// words, such as Chinese or Japanese, and parts of words). The words are messages.body_tsv (stored,
// drizzle/0015) under a GIN index; substrings have pg_trgm's GIN index on body (drizzle/0012). Both
// are partial (deleted_at is null and body is not null), a predicate the statement repeats so the
// planner may use them.
//
// The caller's conversations are read first and given to the search as a list of ids
// (`conversation_id = any($ids)`), not joined: with the ids in hand the planner estimates how many
// messages they hold and picks per query between reading those messages (the primary key, then a
// cheap check of each: a few conversations, or a query that no trigram serves, such as CJK text
// in the C locale) and intersecting the two global indexes' matches with them (common words over
// many messages). Joined, it could not tell: it ran both index scans once per conversation (20 ×
// 155,683 candidates for a common word on the bench's history) or rechecked the whole table.
import { sql, type SQL } from 'drizzle-orm';
import { pgArray, queryRows, type Executor } from './client.js';
import { messageFromSql, type MessageSqlRow } from './messages.js';
import type { MessageRow } from './schema.js';

/** Where a match stands in the result order (rank, then newest first). */
export interface SearchKey {
  rank: number;
  createdAt: Date;
  conversationId: string;
  seq: number;
}

export interface SearchQuery {
  /** The words to look for, as typed (websearch_to_tsquery syntax: "quoted phrase", -not, or). */
  text: string;
  /** The ILIKE pattern of the whole query, its %, _ and \ taken literally. */
  pattern: string;
  userId: string;
  /** Only this conversation (the caller is known to be a member); null: all of theirs. */
  conversationId: string | null;
  after: SearchKey | null;
  limit: number;
}

export interface SearchHit {
  message: MessageRow;
  key: SearchKey;
  /** The body contains the query as typed (case aside). */
  substring: boolean;
  /** For a match by words only: ts_headline's fragment, the words marked «». */
  headline: string | null;
}

/** A match: a USER message that is not deleted (the statement selects no kind). */
interface HitRow extends MessageSqlRow {
  conversation_id: string;
  body: string;
  rank: number | string;
  substring: boolean;
  headline: string | null;
}

/** A substring match counts more than any word match (ts_rank stays below 1). */
const SUBSTRING_BONUS = 1;

/**
 * The best matches after `after`, in order: rank (ts_rank of the words, plus a bonus when the
 * whole query appears as typed), then newest first. Only USER messages that are not deleted, of
 * conversations the user is a member of now (as their history shows them: from the first message).
 */
export async function searchMessageRows(db: Executor, q: SearchQuery): Promise<SearchHit[]> {
  // One conversation: the caller was found to be a member of it just before (domain/search.ts).
  const conversationIds =
    q.conversationId !== null
      ? [q.conversationId]
      : (
          await queryRows<{ conversation_id: string }>(
            db,
            sql`select conversation_id from conversation_members where user_id = ${q.userId}`,
          )
        ).map((r) => r.conversation_id);
  if (conversationIds.length === 0) return [];
  const tsquery = sql`websearch_to_tsquery('simple', ${q.text})`;
  const rank = sql`(ts_rank(m.body_tsv, ${tsquery})::float8
    + case when m.body ilike ${q.pattern} then ${sql.raw(String(SUBSTRING_BONUS))} else 0 end)`;
  const conditions: SQL[] = [
    sql`m.conversation_id = any(${pgArray(conversationIds, 'uuid')})`,
    sql`m.deleted_at is null and m.body is not null and m.kind = 'USER'`,
    sql`(m.body_tsv @@ ${tsquery} or m.body ilike ${q.pattern})`,
  ];
  if (q.after !== null) {
    const k = q.after;
    conditions.push(
      sql`(${rank}, m.created_at, m.conversation_id, m.seq) < (${k.rank}::float8, ${k.createdAt.toISOString()}::timestamptz, ${k.conversationId}::uuid, ${k.seq}::int)`,
    );
  }
  const order = sql`rank desc, created_at desc, conversation_id desc, seq desc`;
  // The page first, its headlines after: ts_headline is costly and only the page needs it.
  const rows = await queryRows<HitRow>(
    db,
    sql`
    select p.*,
           case when p.substring then null
                else ts_headline('simple', p.body, ${tsquery},
                                 'StartSel=«, StopSel=», MaxFragments=1, MaxWords=20, MinWords=8, ShortWord=0')
           end as headline
      from (select m.conversation_id, m.seq, m.sender_id, m.body, m.client_message_id,
                   m.created_at, m.edited_at, m.deleted_at, m.attachment_count, m.change_seq,
                   m.system_event, m.reply_to_seq, m.reply_count, m.mention_user_ids,
                   ${rank} as rank, m.body ilike ${q.pattern} as substring
              from messages m
             where ${sql.join(conditions, sql` and `)}
             order by ${order}
             limit ${q.limit}) p
     order by ${order}`,
  );
  return rows.map((r) => {
    const message = messageFromSql(r.conversation_id, r);
    return {
      message,
      key: {
        rank: Number(r.rank),
        createdAt: message.createdAt,
        conversationId: message.conversationId,
        seq: message.seq,
      },
      substring: r.substring,
      headline: r.headline,
    };
  });
}
