// Threads (drizzle/0013, 0014): a reply names the message it answers by seq in the same
// conversation (messages.reply_to_seq), and the answered message counts its replies
// (messages.reply_count, kept by the send function). Pages of a thread are read through
// messages_reply_idx (conversation_id, reply_to_seq, seq).
import { sql } from 'drizzle-orm';
import { pgArray, queryRows, type Executor } from './client.js';
import {
  messageFromSql,
  type MessageKey,
  type MessageSqlRow,
  type MessageWithSender,
} from './messages.js';

export interface ReplyPageQuery {
  /** Replies with a seq above this (0: from the first). */
  afterSeq: number;
  limit: number;
}

export interface ReplyPage {
  /** Oldest first. */
  replies: MessageWithSender[];
  /** Whether the thread has replies at or before `afterSeq`. */
  hasPrevious: boolean;
}

/** A parent with one of its replies (seq null: a parent with none after `afterSeq`). */
interface ReplyRow extends Omit<MessageSqlRow, 'seq'> {
  parent_conversation_id: string;
  parent_seq: number;
  has_previous: boolean;
  seq: number | null;
  sender_phone: string | null;
  sender_display_name: string;
}

/**
 * One page of the thread of each of `parents` (all with the same window), in one statement: a
 * page of 50 messages showing their first replies costs one read, not 50.
 */
export async function findReplyPages(
  db: Executor,
  parents: readonly MessageKey[],
  q: ReplyPageQuery,
): Promise<ReplyPage[]> {
  if (parents.length === 0) return [];
  const rows = await queryRows<ReplyRow>(
    db,
    sql`
    select p.conversation_id as parent_conversation_id, p.seq as parent_seq,
           exists (select 1 from messages e
                    where e.conversation_id = p.conversation_id and e.reply_to_seq = p.seq
                      and e.seq <= ${q.afterSeq}::int) as has_previous,
           r.*
      from unnest(${pgArray(
        parents.map((k) => k.conversationId),
        'uuid',
      )}, ${pgArray(
        parents.map((k) => k.seq),
        'int',
      )}) as p(conversation_id, seq)
      left join lateral (
        select m.seq, m.sender_id, m.body, m.client_message_id, m.created_at, m.edited_at,
               m.deleted_at, m.attachment_count, m.change_seq, m.kind, m.system_event,
               m.reply_to_seq, m.reply_count, m.mention_user_ids,
               u.phone as sender_phone, u.display_name as sender_display_name
          from messages m
          join users u on u.id = m.sender_id
         where m.conversation_id = p.conversation_id and m.reply_to_seq = p.seq
           and m.seq > ${q.afterSeq}::int
         order by m.seq
         limit ${q.limit}::int) r on true
     order by p.conversation_id, p.seq, r.seq`,
  );
  const pages = new Map<string, ReplyPage>();
  for (const r of rows) {
    const key = `${r.parent_conversation_id}:${r.parent_seq}`;
    let page = pages.get(key);
    if (!page) pages.set(key, (page = { replies: [], hasPrevious: r.has_previous }));
    if (r.seq === null) continue;
    page.replies.push({
      ...messageFromSql(r.parent_conversation_id, { ...r, seq: r.seq }),
      sender: { id: r.sender_id, phone: r.sender_phone, displayName: r.sender_display_name },
    });
  }
  return parents.map(
    (k) => pages.get(`${k.conversationId}:${k.seq}`) ?? { replies: [], hasPrevious: false },
  );
}
