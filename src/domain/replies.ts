// Replies (issue 18): a message may answer another of its conversation (sendMessage replyToId).
// The send function checks and stores the reply under the conversation's lock and counts it on
// the answered message (drizzle/0014); here are the rules around it and the reads of a thread.
import type { MessageRow } from '../db/schema.js';
import type { Session } from './context.js';
import { decodeMessageCursor, encodeMessageCursor } from './cursor.js';
import { badInput, DomainError } from './errors.js';
import { decodeMessageId, type MessageKey } from './ids.js';
import { limits } from './limits.js';
import { checkPageSize, toConnection, type Connection } from './pagination.js';

/** A reply target the sender cannot see (unknown, of another conversation): NOT_FOUND. */
export const replyTargetNotFound = (): DomainError =>
  new DomainError(
    'NOT_FOUND',
    'The message to reply to was not found in this conversation (replyToId).',
    { field: 'replyToId' },
  );

/** A reply target that takes no replies. */
export const replyTargetNotAnswerable = (): DomainError =>
  badInput(
    'You can reply only to a message a person sent that is not deleted (replyToId).',
    'replyToId',
  );

/**
 * The message a new one answers, from its `replyToId`; null when it answers none. Something that
 * is not a message id is NOT_FOUND like an unknown message (ids cannot be probed); so is a
 * message of another conversation than `conversationId` (when known before the send).
 */
export function parseReplyToId(
  replyToId: string | null | undefined,
  conversationId: string | null,
): MessageKey | null {
  if (replyToId === null || replyToId === undefined) return null;
  const key = decodeMessageId(replyToId);
  if (!key) throw replyTargetNotFound();
  if (conversationId !== null && key.conversationId !== conversationId) {
    throw replyTargetNotFound();
  }
  return key;
}

export interface RepliesArgs {
  first?: number | null | undefined;
  after?: string | null | undefined;
}

/** The window of `Message.replies(first, after)`: oldest first, after the `after` reply. */
export function parseRepliesArgs(args: RepliesArgs): { afterSeq: number; size: number } {
  const size =
    args.first === null || args.first === undefined
      ? limits.defaultPageSize
      : checkPageSize(args.first, 'first');
  const afterSeq =
    args.after !== null && args.after !== undefined ? decodeMessageCursor(args.after, 'after') : 0;
  return { afterSeq, size };
}

/**
 * The replies of a message the viewer can see (they are in its conversation, so they see its
 * thread too), oldest first, with cursors like `messages` edges. Batched: the replies of a page
 * of messages are one statement.
 */
export async function repliesOf(
  session: Session,
  message: MessageRow,
  args: RepliesArgs,
): Promise<Connection<MessageRow>> {
  const { afterSeq, size } = parseRepliesArgs(args);
  // Nothing to read when nothing ever answered it.
  if (message.replyCount === 0 || size === 0) {
    return toConnection<MessageRow>(
      [],
      (m) => encodeMessageCursor(m.seq),
      false,
      message.replyCount > 0,
    );
  }
  const page = await session.loaders.replies.load({
    conversationId: message.conversationId,
    seq: message.seq,
    afterSeq,
    // One more than the page: whether more follow.
    limit: size + 1,
  });
  const replies = page.replies.slice(0, size);
  return toConnection(
    replies,
    (m) => encodeMessageCursor(m.seq),
    page.hasPrevious,
    page.replies.length > size,
  );
}

/** The message this one answers (a tombstone, body null, when deleted since); null if none. */
export function replyToOf(
  session: Session,
  message: MessageRow,
): Promise<MessageRow | null> | null {
  if (message.replyToSeq === null) return null;
  return session.loaders.message
    .load({ conversationId: message.conversationId, seq: message.replyToSeq })
    .then((row) => row ?? null);
}
