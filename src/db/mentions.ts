// Who is mentioned where (message_mentions, drizzle/0013): one row per mentioned member (not the
// sender) and message, written by the send function (drizzle/0014), gone when the message is
// deleted. Its key (conversation_id, user_id, seq) serves the count of a member's unread mentions.
import { and, eq, sql } from 'drizzle-orm';
import { pgArray, queryRows, type Executor } from './client.js';
import type { MessageKey } from './messages.js';
import { messageMentions } from './schema.js';

/**
 * For each of `conversationIds` that `userId` is a member of and has unread mentions in: how many
 * messages after their read position mention them. Absent: none.
 */
export async function countUnreadMentions(
  db: Executor,
  userId: string,
  conversationIds: readonly string[],
): Promise<Map<string, number>> {
  if (conversationIds.length === 0) return new Map();
  const rows = await queryRows<{ conversation_id: string; n: number | string }>(
    db,
    sql`select mm.conversation_id, count(*)::int as n
          from message_mentions mm
          join conversation_members cm
            on cm.conversation_id = mm.conversation_id and cm.user_id = mm.user_id
         where mm.user_id = ${userId}::uuid
           and mm.conversation_id = any(${pgArray(conversationIds, 'uuid')})
           and mm.seq > cm.last_read_seq
         group by mm.conversation_id`,
  );
  return new Map(rows.map((r) => [r.conversation_id, Number(r.n)]));
}

/**
 * Forgets whom a message mentioned (when it is deleted). `userIds`: those it mentioned (its
 * mention_user_ids), so each row is found by its key rather than among the conversation's.
 */
export async function deleteMentionsOf(
  db: Executor,
  key: MessageKey,
  userIds: readonly string[],
): Promise<void> {
  if (userIds.length === 0) return;
  await db
    .delete(messageMentions)
    .where(
      and(
        eq(messageMentions.conversationId, key.conversationId),
        sql`${messageMentions.userId} = any(${pgArray(userIds, 'uuid')})`,
        eq(messageMentions.seq, key.seq),
      ),
    );
}
