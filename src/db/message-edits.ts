// Earlier bodies of edited messages (message_edits, drizzle/0012): written by an edit under the
// conversation's lock, gone with the message's body when it is deleted.
import { and, asc, eq, sql } from 'drizzle-orm';
import { type Executor } from './client.js';
import { conversationPairIn } from './conversation-keys.js';
import type { MessageKey } from './messages.js';
import { conversations, messageEdits } from './schema.js';

export type MessageEditRow = typeof messageEdits.$inferSelect;

/**
 * Keeps a message's body as its next earlier version before an edit replaces it with `body`
 * (nothing when the body stays the same, or the message is deleted). Takes the conversation's
 * lock first, as every change of a message does (db/messages.ts updateMessage), so the body read
 * here is the one the edit replaces: two edits at once each keep the body the other left.
 */
export async function keepEarlierBody(
  db: Executor,
  key: MessageKey,
  body: string,
  replacedAt: Date,
): Promise<void> {
  await db
    .select({ id: conversations.id })
    .from(conversations)
    .where(eq(conversations.id, key.conversationId))
    .for('update');
  // A statement of its own after the lock: it reads the body as the previous holder left it.
  await db.execute(sql`
    insert into message_edits (conversation_id, seq, version, body, replaced_at)
    select m.conversation_id, m.seq,
           coalesce((select max(e.version) from message_edits e
                      where e.conversation_id = m.conversation_id and e.seq = m.seq), 0) + 1,
           m.body, ${replacedAt.toISOString()}::timestamptz
      from messages m
     where m.conversation_id = ${key.conversationId} and m.seq = ${key.seq}
       and m.deleted_at is null and m.body is not null and m.body <> ${body}`);
}

/** Forgets a message's earlier bodies (when it is deleted: no body of it may survive). */
export async function deleteEarlierBodies(db: Executor, key: MessageKey): Promise<void> {
  await db
    .delete(messageEdits)
    .where(and(eq(messageEdits.conversationId, key.conversationId), eq(messageEdits.seq, key.seq)));
}

/** The earlier bodies of these messages, each message's oldest first. */
export function findEarlierBodies(
  db: Executor,
  keys: readonly MessageKey[],
): Promise<MessageEditRow[]> {
  if (keys.length === 0) return Promise.resolve([]);
  return db
    .select()
    .from(messageEdits)
    .where(
      conversationPairIn(
        [messageEdits.conversationId, messageEdits.seq],
        keys,
        (k) => k.conversationId,
        [(k) => k.seq, 'int'],
      ),
    )
    .orderBy(asc(messageEdits.conversationId), asc(messageEdits.seq), asc(messageEdits.version));
}
