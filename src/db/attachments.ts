import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { pairIn, queryRows, type Executor } from './client.js';
import type { MessageKey } from './messages.js';
import { attachments, conversationMembers, messages, type AttachmentRow } from './schema.js';

export type NewAttachment = Omit<
  AttachmentRow,
  'createdAt' | 'conversationId' | 'messageSeq' | 'position'
>;

export async function insertAttachment(db: Executor, row: NewAttachment): Promise<AttachmentRow> {
  const [inserted] = await db.insert(attachments).values(row).returning();
  return inserted!;
}

export async function deleteAttachment(db: Executor, id: string): Promise<void> {
  await db.delete(attachments).where(eq(attachments.id, id));
}

/** Attachments of these messages, in their order within each message. */
export function findAttachmentsOfMessages(
  db: Executor,
  keys: readonly MessageKey[],
): Promise<AttachmentRow[]> {
  if (keys.length === 0) return Promise.resolve([]);
  return db
    .select()
    .from(attachments)
    .where(
      pairIn(
        [attachments.conversationId, attachments.messageSeq],
        keys,
        [(k) => k.conversationId, 'uuid'],
        [(k) => k.seq, 'int'],
      ),
    )
    .orderBy(asc(attachments.position));
}

/** An attachment of a message that is not deleted; with `viewerId`, only if they are a member. */
export async function findSentAttachment(
  db: Executor,
  id: string,
  viewerId: string | null,
): Promise<AttachmentRow | undefined> {
  const base = db
    .select({ attachment: attachments })
    .from(attachments)
    .innerJoin(
      messages,
      and(
        eq(messages.conversationId, attachments.conversationId),
        eq(messages.seq, attachments.messageSeq),
        isNull(messages.deletedAt),
      ),
    );
  const query =
    viewerId === null
      ? base
      : base.innerJoin(
          conversationMembers,
          and(
            eq(conversationMembers.conversationId, attachments.conversationId),
            eq(conversationMembers.userId, viewerId),
          ),
        );
  const [row] = await query.where(eq(attachments.id, id)).limit(1);
  return row?.attachment;
}

/**
 * Deletes up to `limit` uploads that were never attached and are older than `olderThanSeconds`,
 * returning them (so their blobs can be removed). Rows another instance is sweeping (or a send
 * is attaching) are skipped rather than waited for.
 */
export function deleteStaleUploads(
  db: Executor,
  olderThanSeconds: number,
  limit: number,
): Promise<{ id: string; thumbnail_size: number | null }[]> {
  return queryRows(
    db,
    sql`delete from attachments where id in (
          select id from attachments
           where conversation_id is null
             and created_at < now() - make_interval(secs => ${olderThanSeconds})
           order by created_at
           limit ${limit}
             for update skip locked)
        returning id, thumbnail_size`,
  );
}
