// Emoji reactions (drizzle/0012): one row per (message, emoji, user). The rules are in
// domain/reactions.ts; changes run under the conversation's lock (see lockMessageOfMember).
import { and, asc, eq, sql } from 'drizzle-orm';
import { queryRows, type Executor } from './client.js';
import { conversationPairIn } from './conversation-keys.js';
import { conversationMembers, conversations, messageReactions, messages } from './schema.js';
import type { MessageRow } from './schema.js';
import { messageColumns, type MessageKey } from './messages.js';

/**
 * Locks the message's conversation (so its reaction changes, edits and deletes serialize) and
 * returns the message; undefined when there is no such message or `userId` is not a member.
 * The message and the membership are read by a second statement, once the lock is held: read
 * by the locking statement they would come from its snapshot, taken before waiting for the
 * lock, and miss a delete (or a removal) that committed meanwhile.
 */
export async function lockMessageOfMember(
  tx: Executor,
  key: MessageKey,
  userId: string,
): Promise<MessageRow | undefined> {
  const [locked] = await tx
    .select({ id: conversations.id })
    .from(conversations)
    .where(eq(conversations.id, key.conversationId))
    // The strength an UPDATE of the row takes: sends (which take it too) still wait, but a
    // foreign key check on the conversation does not.
    .for('no key update');
  if (!locked) return undefined;
  const [row] = await tx
    .select(messageColumns)
    .from(messages)
    .innerJoin(
      conversationMembers,
      and(
        eq(conversationMembers.conversationId, messages.conversationId),
        eq(conversationMembers.userId, userId),
      ),
    )
    .where(and(eq(messages.conversationId, key.conversationId), eq(messages.seq, key.seq)));
  return row;
}

const ofMessage = (key: MessageKey) =>
  and(eq(messageReactions.conversationId, key.conversationId), eq(messageReactions.seq, key.seq));

/**
 * Adds `userId`'s reaction (under the conversation's lock): `added`, `present` when they had
 * it already, `full` when it would be the message's emoji number `maxEmojis + 1`.
 */
export async function insertReaction(
  tx: Executor,
  key: MessageKey,
  emoji: string,
  userId: string,
  maxEmojis: number,
): Promise<'added' | 'present' | 'full'> {
  // A new emoji only while the message has fewer than maxEmojis; an existing one always. The
  // time is the clock's, not the transaction's start: under the lock it follows commit order, so
  // "first used" and "earliest first" are the order people reacted in.
  const inserted = await queryRows<{ emoji: string }>(
    tx,
    sql`insert into ${messageReactions} (conversation_id, seq, emoji, user_id, created_at)
        select ${key.conversationId}::uuid, ${key.seq}::int, ${emoji}::text, ${userId}::uuid,
               clock_timestamp()
         where exists (select 1 from ${messageReactions}
                        where ${ofMessage(key)} and ${messageReactions.emoji} = ${emoji})
            or (select count(distinct ${messageReactions.emoji}) from ${messageReactions}
                 where ${ofMessage(key)}) < ${maxEmojis}
        on conflict do nothing
        returning emoji`,
  );
  if (inserted.length > 0) return 'added';
  const [mine] = await tx
    .select({ emoji: messageReactions.emoji })
    .from(messageReactions)
    .where(
      and(ofMessage(key), eq(messageReactions.emoji, emoji), eq(messageReactions.userId, userId)),
    );
  return mine ? 'present' : 'full';
}

/** Takes `userId`'s reaction back; false when they had none with this emoji. */
export async function deleteReaction(
  tx: Executor,
  key: MessageKey,
  emoji: string,
  userId: string,
): Promise<boolean> {
  const deleted = await tx
    .delete(messageReactions)
    .where(
      and(ofMessage(key), eq(messageReactions.emoji, emoji), eq(messageReactions.userId, userId)),
    )
    .returning({ emoji: messageReactions.emoji });
  return deleted.length > 0;
}

/** Who reacted is read for this many per emoji: the most `ReactionGroup.users(first)` shows. */
export const REACTION_USERS_READ = 20;

/** One emoji of one message: how many reacted, whether the viewer did, and the first few. */
export interface ReactionGroupRow {
  conversationId: string;
  seq: number;
  emoji: string;
  count: number;
  reactedByMe: boolean;
  /** The first REACTION_USERS_READ who reacted with it, earliest first. */
  firstUserIds: readonly string[];
}

/**
 * The reaction groups of these messages in one statement, each message's in the order its
 * emojis were first used (by the earliest of the reactions that still stand).
 */
export async function findReactionGroups(
  db: Executor,
  keys: readonly MessageKey[],
  viewerId: string | null,
): Promise<ReactionGroupRow[]> {
  if (keys.length === 0) return [];
  const r = messageReactions;
  const firstAt = sql`min(${r.createdAt})`;
  return db
    .select({
      conversationId: r.conversationId,
      seq: r.seq,
      emoji: r.emoji,
      count: sql<number>`count(*)::int`,
      reactedByMe:
        viewerId === null
          ? sql<boolean>`false`
          : sql<boolean>`coalesce(bool_or(${r.userId} = ${viewerId}::uuid), false)`,
      firstUserIds: sql<
        string[]
      >`(array_agg(${r.userId}::text order by ${r.createdAt}, ${r.userId}))[1:${sql.raw(String(REACTION_USERS_READ))}]`,
    })
    .from(r)
    .where(
      conversationPairIn([r.conversationId, r.seq], keys, (k) => k.conversationId, [
        (k) => k.seq,
        'int',
      ]),
    )
    .groupBy(r.conversationId, r.seq, r.emoji)
    .orderBy(asc(r.conversationId), asc(r.seq), asc(firstAt), asc(r.emoji));
}
