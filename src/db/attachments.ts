import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { pairIn, pgArray, queryRows, type Executor } from './client.js';
import type { MessageKey } from './messages.js';
import {
  attachments,
  conversationMembers,
  conversations,
  discardedBlobs,
  messages,
  type AttachmentRow,
} from './schema.js';

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
): Promise<{ id: string; thumbnailSize: number | null }[]> {
  return queryRows(
    db,
    sql`delete from attachments where id in (
          select id from attachments
           where conversation_id is null
             and created_at < now() - make_interval(secs => ${olderThanSeconds})
           order by created_at
           limit ${limit}
             for update skip locked)
        returning id, thumbnail_size as "thumbnailSize"`,
  );
}

/** Deletes the attachment rows of one message, returning them (so their blobs can be discarded). */
export function deleteAttachmentsOf(
  db: Executor,
  key: MessageKey,
): Promise<{ id: string; thumbnailSize: number | null }[]> {
  return db
    .delete(attachments)
    .where(
      and(eq(attachments.conversationId, key.conversationId), eq(attachments.messageSeq, key.seq)),
    )
    .returning({ id: attachments.id, thumbnailSize: attachments.thumbnailSize });
}

/** Records blobs to remove from storage (see `discardedBlobs`). */
export async function discardBlobs(db: Executor, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await db
    .insert(discardedBlobs)
    .values(keys.map((key) => ({ key })))
    .onConflictDoNothing();
}

/**
 * Up to `limit` discarded blob keys, locked for this transaction; keys another instance is
 * removing are skipped rather than waited for.
 */
export async function lockDiscardedBlobs(db: Executor, limit: number): Promise<string[]> {
  const rows = await db
    .select({ key: discardedBlobs.key })
    .from(discardedBlobs)
    .limit(limit)
    .for('update', { skipLocked: true });
  return rows.map((r) => r.key);
}

export async function forgetDiscardedBlobs(db: Executor, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await db.delete(discardedBlobs).where(sql`${discardedBlobs.key} = any(${pgArray(keys, 'text')})`);
}

/**
 * Makes an image the uploader has not sent the picture of a conversation (bound to it with
 * message_seq 0: no message has that seq); false when it is not such an upload.
 */
export async function bindAvatar(
  db: Executor,
  id: string,
  uploaderId: string,
  conversationId: string,
): Promise<boolean> {
  const rows = await db
    .update(attachments)
    .set({ conversationId, messageSeq: 0, position: 0 })
    .where(
      and(
        eq(attachments.id, id),
        eq(attachments.uploaderId, uploaderId),
        isNull(attachments.conversationId),
        sql`${attachments.mimeType} like 'image/%'`,
      ),
    )
    .returning({ id: attachments.id });
  return rows.length === 1;
}

/** Deletes a conversation's former picture, returning it (so its blobs can be discarded). */
export function deleteAvatar(
  db: Executor,
  id: string,
): Promise<{ id: string; thumbnailSize: number | null }[]> {
  return db
    .delete(attachments)
    .where(eq(attachments.id, id))
    .returning({ id: attachments.id, thumbnailSize: attachments.thumbnailSize });
}

/**
 * A conversation's picture, for a download: to members, and to anyone signed in when the group
 * is PUBLIC (it shows in publicConversations).
 */
export async function findAvatarAttachment(
  db: Executor,
  id: string,
  viewerId: string | null,
): Promise<AttachmentRow | undefined> {
  const viewerCanSee =
    viewerId === null
      ? sql`true`
      : sql`(${conversations.visibility} = 'PUBLIC' or exists (
          select 1 from ${conversationMembers}
           where ${conversationMembers.conversationId} = ${conversations.id}
             and ${conversationMembers.userId} = ${viewerId}))`;
  const [row] = await db
    .select({ attachment: attachments })
    .from(attachments)
    .innerJoin(
      conversations,
      and(
        eq(conversations.id, attachments.conversationId),
        eq(conversations.avatarAttachmentId, attachments.id),
      ),
    )
    .where(and(eq(attachments.id, id), viewerCanSee));
  return row?.attachment;
}

/** Attachments by id (those that exist), in no particular order. */
export function findAttachmentsByIds(
  db: Executor,
  ids: readonly string[],
): Promise<AttachmentRow[]> {
  return db
    .select()
    .from(attachments)
    .where(inArray(attachments.id, [...ids]));
}
