// A page of a conversation's history within a time window (messages(since, until)). Kept apart
// from the common page (db/messages.ts memberPageSql), whose one prepared statement stays as it is.
//
// A message's created_at never decreases with its seq: every writer (parley_send_message(s),
// insertSystemMessage) takes it as greatest(now(), conversations.updated_at) under the
// conversation's lock and moves updated_at to it. So a time window is a run of seqs, and its ends
// are found by binary search over the primary key (about log2(last_seq) lookups, ~20 for a
// million messages) rather than by reading the conversation until enough rows fall in the window.
// The page is then the usual seq range, cut to that run: cursors work exactly as without a window.
import { sql } from 'drizzle-orm';
import { preparedStatement, type Executor } from './client.js';
import {
  MAX_SEQ,
  pageMessages,
  type MemberPosition,
  type MessagePageQuery,
  type MessageWithSender,
  type PageRow,
} from './messages.js';

/** The seqs in a window: from `low` up to, not including, `high` (empty when low >= high). */
export interface SeqRun {
  readonly low: number;
  readonly high: number;
}

type WindowRow = [...PageRow, low: number, high: number];

// The first seq in [lo, hi) whose created_at is >= t (hi when there is none), as `lo` of the
// recursion's last row; the search starts at lo = hi when t is null (no bound on that side).
const firstAtOrAfter = (
  name: string,
  t: ReturnType<typeof sql.placeholder>,
  none: 'start' | 'end',
) => sql`
  ${sql.raw(name)}(lo, hi) as (
    select ${none === 'start' ? sql`1` : sql`case when ${t}::timestamptz is null then v.last_seq + 1 else 1 end`},
           ${none === 'start' ? sql`case when ${t}::timestamptz is null then 1 else v.last_seq + 1 end` : sql`v.last_seq + 1`}
      from v
    union all
    select case when msg.created_at >= ${t}::timestamptz then s.lo else (s.lo + s.hi) / 2 + 1 end,
           case when msg.created_at >= ${t}::timestamptz then (s.lo + s.hi) / 2 else s.hi end
      from ${sql.raw(name)} s
      join messages msg
        on msg.conversation_id = ${sql.placeholder('conversationId')} and msg.seq = (s.lo + s.hi) / 2
     where s.lo < s.hi)`;

const windowPageSql = (forward: boolean) => sql`
  with recursive
  v as (select c.last_seq, m.last_delivered_seq
          from conversations c
          join conversation_members m
            on m.conversation_id = c.id and m.user_id = ${sql.placeholder('userId')}
         where c.id = ${sql.placeholder('conversationId')}),
  ${firstAtOrAfter('since_search', sql.placeholder('since'), 'start')},
  ${firstAtOrAfter('until_search', sql.placeholder('until'), 'end')},
  b as (select v.last_seq, v.last_delivered_seq,
               (select max(lo) from since_search) as low,
               (select max(lo) from until_search) as high
          from v)
  select b.last_seq, b.last_delivered_seq, p.seq, p.sender_id, p.body, p.client_message_id,
         p.created_at, p.edited_at, p.deleted_at, p.attachment_count, p.change_seq,
         p.sender_phone, p.sender_display_name, p.kind, p.system_event,
         p.reply_to_seq, p.reply_count, p.mention_user_ids, b.low, b.high
    from b
    left join lateral (
      select msg.seq, msg.sender_id, msg.body, msg.client_message_id, msg.created_at,
             msg.edited_at, msg.deleted_at, msg.attachment_count, msg.change_seq,
             u.phone as sender_phone, u.display_name as sender_display_name,
             msg.kind, msg.system_event, msg.reply_to_seq, msg.reply_count, msg.mention_user_ids
        from messages msg
        join users u on u.id = msg.sender_id
       where msg.conversation_id = ${sql.placeholder('conversationId')}
         and msg.seq > greatest(${sql.placeholder('afterSeq')}::int, b.low - 1)
         and msg.seq < least(${sql.placeholder('beforeSeq')}::int, b.high)
       order by msg.seq ${forward ? sql`asc` : sql`desc`}
       limit ${sql.placeholder('limit')}) p on true`;

const windowPage = (forward: boolean) =>
  preparedStatement(
    forward ? 'member_messages_window_forward' : 'member_messages_window_backward',
    windowPageSql(forward),
    (rows) => rows as WindowRow[],
  );
const windowForwardPage = windowPage(true);
const windowBackwardPage = windowPage(false);

/**
 * A page of the messages sent at or after `since` and before `until` (either may be null: no
 * bound), with where the member stands and the window's run of seqs, in one round trip;
 * undefined when `userId` is not a member.
 */
export async function listMessagesInWindow(
  db: Executor,
  conversationId: string,
  userId: string,
  window: { since: Date | null; until: Date | null },
  q: MessagePageQuery,
): Promise<{ position: MemberPosition; run: SeqRun; messages: MessageWithSender[] } | undefined> {
  const forward = q.direction === 'forward';
  const rows = await (forward ? windowForwardPage : windowBackwardPage)(db).execute({
    conversationId,
    userId,
    since: window.since?.toISOString() ?? null,
    until: window.until?.toISOString() ?? null,
    afterSeq: q.afterSeq ?? 0,
    beforeSeq: q.beforeSeq ?? MAX_SEQ,
    limit: q.limit,
  });
  const first = rows[0];
  if (!first) return undefined;
  return {
    position: { lastSeq: first[0], viewerLastDeliveredSeq: first[1] },
    // After the page's columns (PageRow): the window's run.
    run: { low: Number(first[18]), high: Number(first[19]) },
    messages: pageMessages(conversationId, rows as unknown as PageRow[], forward),
  };
}
