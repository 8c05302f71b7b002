import { deleteAttachmentsOf, discardBlobs } from '../db/attachments.js';
import type { Database, Executor, Tx } from '../db/client.js';
import { deleteEarlierBodies, keepEarlierBody } from '../db/message-edits.js';
import { listMessagesInWindow, type SeqRun } from '../db/message-windows.js';
import {
  advanceRead,
  findConversationView,
  rewindRead,
  totalUnread,
  type ConversationView,
} from '../db/conversations.js';
import { deleteMentionsOf } from '../db/mentions.js';
import {
  findMessage,
  listMessages as listMessageRows,
  listMessagesOfMember,
  sendInOneStatement,
  updateMessage,
  type MemberPosition,
  type MessagePageQuery,
  type SendRefusal,
  type SendResult,
} from '../db/messages.js';
import type { AttachmentRow, LiveMessageRow, MemberRow, MessageRow } from '../db/schema.js';
import { attachmentNotFound, parseAttachmentIds } from './attachments.js';
import type { Session } from './context.js';
import { getOrCreateDirect, requireOtherUser } from './conversations.js';
import { decodeMessageCursor, encodeMessageCursor } from './cursor.js';
import {
  badInput,
  checkText,
  conversationNotFound,
  DomainError,
  messageNotFound,
} from './errors.js';
import { isUuid, parseMessageId, type MessageKey } from './ids.js';
import { messageEvent, route, type Staged } from './events.js';
import { topics } from '../realtime/events.js';
import { blobKeysOf } from '../storage/blob-store.js';
import { limits } from './limits.js';
import { mentionNotMember, parseMentionUserIds } from './mentions.js';
import { parseReplyToId, replyTargetNotAnswerable, replyTargetNotFound } from './replies.js';
import { tellOwnDevices } from './streams/conversation-updates.js';
import {
  parseConnectionArgs,
  toConnection,
  type ConnectionArgs,
  type PageWindow,
} from './pagination.js';

export function parseBody(body: string): string {
  if (body.trim().length === 0) throw badInput('body must not be empty.', 'body');
  checkText(body, 'body');
  // Counted in characters as people see them (code points), not UTF-16 units.
  let length = 0;
  for (const _ of body) {
    if (++length > limits.maxBodyLength) {
      throw badInput(`body is longer than ${limits.maxBodyLength} characters.`, 'body');
    }
  }
  return body;
}

function parseClientMessageId(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (value.length < 1 || value.length > limits.maxClientMessageIdLength) {
    throw badInput(
      `clientMessageId must be 1–${limits.maxClientMessageIdLength} characters.`,
      'clientMessageId',
    );
  }
  return checkText(value, 'clientMessageId');
}

export interface SendMessageInput {
  conversationId?: string | null | undefined;
  toPhone?: string | null | undefined;
  /** May be empty or absent when the message has attachments. */
  body?: string | null | undefined;
  clientMessageId?: string | null | undefined;
  attachmentIds?: readonly string[] | null | undefined;
  /** The message (same conversation) this one answers. */
  replyToId?: string | null | undefined;
  /** Members this one mentions, in order. */
  mentionUserIds?: readonly string[] | null | undefined;
}

/** What the send function refused, as the sender is told it (nothing was written). */
const refusalError: Record<SendRefusal, () => DomainError> = {
  attachmentNotAvailable: attachmentNotFound,
  replyNotFound: replyTargetNotFound,
  replyNotAnswerable: replyTargetNotAnswerable,
  mentionNotMember,
};

/**
 * Sends a message. Its seq is taken inside the transaction from the locked conversation row, so
 * seqs are gap-free and in commit order. A clientMessageId already used by this sender in the
 * conversation returns the stored message (the lock makes concurrent retries see each other).
 */
export async function sendMessage(session: Session, input: SendMessageInput): Promise<MessageRow> {
  await session.deps.rateLimiter.consume('sendMessage', session.userId);
  const hasConversation = input.conversationId !== null && input.conversationId !== undefined;
  const hasPhone = input.toPhone !== null && input.toPhone !== undefined;
  if (hasConversation === hasPhone) {
    throw badInput('Give exactly one of conversationId and toPhone.', 'conversationId');
  }
  const attachmentIds = parseAttachmentIds(input.attachmentIds);
  // A message of attachments only has an empty body (never null, which marks a deleted message).
  const body =
    attachmentIds.length > 0 && (input.body ?? '').trim() === '' ? '' : parseBody(input.body ?? '');
  const clientMessageId = parseClientMessageId(input.clientMessageId);
  if (hasConversation && !isUuid(input.conversationId!)) throw conversationNotFound();
  // A reply to a message elsewhere is refused here when the conversation is known already (with
  // toPhone, once the 1:1 is found); all else about the reply and the mentions is checked by the
  // send, under the conversation's lock.
  const replyTo = parseReplyToId(input.replyToId, hasConversation ? input.conversationId! : null);
  const mentionUserIds = parseMentionUserIds(input.mentionUserIds);
  const recipient = hasPhone
    ? await requireOtherUser(session.deps, session.userId, input.toPhone!, 'toPhone')
    : null;
  const senderId = session.userId;

  const { deps } = session;
  // The whole send in one statement: membership, dedup, reply and mention checks, seq, insert,
  // read mark and outbox.
  const inOneStatement = (db: Executor, conversationId: string) =>
    sendInOneStatement(db, {
      conversationId,
      senderId,
      body,
      clientMessageId,
      attachmentIds,
      replyToSeq: replyTo?.seq ?? null,
      mentionUserIds,
    });

  // No row: the sender is not a member. Refused: nothing was written.
  const found = (sent: SendResult | { refused: SendRefusal } | undefined) => {
    if (!sent) throw conversationNotFound();
    if ('refused' in sent) throw refusalError[sent.refused]();
    return sent;
  };
  // Messages with attachments, a reply or mentions are sent on their own (parley_send_message);
  // the group commit batch (parley_send_batch) takes plain messages only, which are nearly all
  // of them: passing per-message arrays of mentions through it is not worth its complexity.
  const alone = attachmentIds.length > 0 || replyTo !== null || mentionUserIds.length > 0;

  let result: SendResult;
  const staged: Staged[] = [];
  if (recipient) {
    // Opening the 1:1 and sending commit together, or not at all.
    result = await deps.db.transaction(async (tx) => {
      const direct = await getOrCreateDirect(deps, tx, senderId, recipient.id);
      // Rolls the opening back too.
      if (replyTo && replyTo.conversationId !== direct.id) throw replyTargetNotFound();
      if (direct.staged) staged.push(direct.staged);
      return found(await inOneStatement(tx, direct.id));
    });
  } else {
    result = found(
      alone
        ? await inOneStatement(deps.db, input.conversationId!)
        : // Gathered with the other sends this instance holds (one commit for them all).
          await deps.sends.send({
            conversationId: input.conversationId!,
            senderId,
            body,
            clientMessageId,
          }),
    );
  }
  if (!result.existed && result.outboxId !== null) {
    const { message } = result;
    staged.push({
      entries: [
        {
          conversationId: message.conversationId,
          id: result.outboxId,
          ...route(message.conversationId, messageEvent('messageAdded', message, result)),
        },
      ],
    });
  }
  // Committed: ring the doorbell. A failed publish is retried from the outbox.
  for (const s of staged) deps.events.publish(s);
  return result.message;
}

async function updateAndAnnounce(
  session: Session,
  key: MessageKey,
  change: { body: string | null; editedAt?: Date; deletedAt?: Date; mentionUserIds?: null },
  alsoInTransaction: {
    before?: (tx: Tx) => Promise<unknown>;
    after?: (tx: Tx) => Promise<unknown>;
  },
): Promise<MessageRow | undefined> {
  const { deps } = session;
  const result = await deps.db.transaction(async (tx) => {
    await alsoInTransaction.before?.(tx);
    const updated = await updateMessage(tx, key, change);
    if (!updated) return null;
    await alsoInTransaction.after?.(tx);
    // It comes with its sender and member set version, like a new message's event.
    const event = messageEvent('messageUpdated', updated, updated);
    const staged = await deps.events.stage(tx, [{ conversationId: key.conversationId, event }]);
    return { updated, staged };
  });
  if (!result) return undefined;
  deps.events.publish(result.staged);
  return result.updated;
}

/** The message, after checking that the viewer is a member of its conversation. */
async function requireMessage(session: Session, key: MessageKey): Promise<MessageRow> {
  const view = await findConversationView(session.deps.db, key.conversationId, session.userId);
  const message = view ? await findMessage(session.deps.db, key) : undefined;
  if (!message) throw messageNotFound();
  return message;
}

function requireOwn(session: Session, message: MessageRow, action: string): void {
  if (message.senderId !== session.userId) {
    throw new DomainError('FORBIDDEN', `You can only ${action} your own messages.`);
  }
}

export async function editMessage(
  session: Session,
  input: { messageId: string; body: string },
): Promise<MessageRow> {
  const key = parseMessageId(input.messageId);
  const body = parseBody(input.body);
  const message = await requireMessage(session, key);
  requireOwn(session, message, 'edit');
  if (message.deletedAt)
    throw badInput('This message was deleted and cannot be edited.', 'messageId');
  const editedAt = new Date();
  // The body it replaces is kept (edit history), in the same transaction as the edit.
  const updated = await updateAndAnnounce(
    session,
    key,
    { body, editedAt },
    { before: (tx) => keepEarlierBody(tx, key, body, editedAt) },
  );
  // Deleted while the edit waited for the conversation's lock: the delete stands.
  if (!updated) throw badInput('This message was deleted and cannot be edited.', 'messageId');
  return updated;
}

export async function deleteMessage(session: Session, messageId: string): Promise<MessageRow> {
  const key = parseMessageId(messageId);
  const message = await requireMessage(session, key);
  requireOwn(session, message, 'delete');
  if (message.deletedAt) return message;
  // Its earlier bodies go with it (no body of a deleted message survives; always looked for: an
  // edit may have committed since `message` was read), and its files: the rows now, the stored
  // bytes right after (see attachment-sweep).
  const hasFiles = message.attachmentCount > 0;
  const discard = async (tx: Tx) => {
    await deleteEarlierBodies(tx, key);
    // Whom it mentioned goes too: it counts in nobody's unreadMentionCount any more.
    await deleteMentionsOf(tx, key, message.mentionUserIds ?? []);
    if (!hasFiles) return;
    const rows = await deleteAttachmentsOf(tx, key);
    await discardBlobs(tx, rows.flatMap(blobKeysOf));
  };
  const deleted = { body: null, deletedAt: new Date(), mentionUserIds: null };
  const updated = await updateAndAnnounce(session, key, deleted, { after: discard });
  if (hasFiles) session.deps.attachments.removeDiscardedSoon();
  return updated ?? message;
}

/** Marks everything up to and including a message as read (never backwards). */
export const markRead = (session: Session, messageId: string) =>
  moveRead(session, messageId, 'forward');

/**
 * Marks a message and everything after it unread for the caller: their read position moves back
 * to just before it (never forwards). Other members see the position as a read receipt.
 */
export const markUnread = (session: Session, messageId: string) =>
  moveRead(session, messageId, 'back');

async function moveRead(session: Session, messageId: string, direction: 'forward' | 'back') {
  const key = parseMessageId(messageId);
  const view = await findConversationView(session.deps.db, key.conversationId, session.userId);
  if (!view || key.seq > view.lastSeq) throw messageNotFound();
  const { db } = session.deps;
  const read =
    direction === 'forward'
      ? await advanceRead(db, key.conversationId, session.userId, key.seq)
      : await rewindRead(db, key.conversationId, session.userId, key.seq - 1);
  if (!read) throw conversationNotFound(); // left meanwhile
  session.loaders.members.clear(key.conversationId);
  session.loaders.unreadMentions.clear(key.conversationId);
  if (read.lastReadSeq !== view.viewerLastReadSeq) {
    session.deps.events.publishEphemeral(topics.activity(key.conversationId), {
      type: 'receipt',
      conversationId: key.conversationId,
      userId: session.userId,
      lastReadSeq: read.lastReadSeq,
      readAt: new Date().toISOString(),
    });
    // The badge on the caller's other devices (conversationUpdated READ).
    tellOwnDevices(session, key.conversationId, 'READ');
  }
  return {
    ...view,
    viewerLastReadSeq: read.lastReadSeq,
    viewerLastDeliveredSeq: read.lastDeliveredSeq,
  };
}

/** The caller's unread messages over all their conversations; null for anyone else. */
export function totalUnreadCount(session: Session, userId: string): Promise<number> | null {
  return userId === session.userId ? totalUnread(session.deps.db, userId) : null;
}

/** Tells the other members whether the caller is typing; expires unless renewed. */
export async function setTyping(
  session: Session,
  conversationId: string,
  isTyping: boolean,
): Promise<boolean> {
  await session.deps.rateLimiter.consume('setTyping', session.userId);
  if (!isUuid(conversationId)) throw conversationNotFound();
  const view = await findConversationView(session.deps.db, conversationId, session.userId);
  if (!view) throw conversationNotFound();
  session.deps.events.publishEphemeral(topics.activity(conversationId), {
    type: 'typing',
    conversationId,
    userId: session.userId,
    isTyping,
    ttlMs: limits.typingTtlMs,
  });
  return true;
}

export const messageCursor = (m: MessageRow): string => encodeMessageCursor(m.seq);

/** A page of history, optionally within a time window (sent at or after since, before until). */
export interface HistoryArgs extends ConnectionArgs {
  /** The DateTime scalar hands over a Date (typed as its serialized string). */
  since?: Date | string | null | undefined;
  until?: Date | string | null | undefined;
}

export interface TimeWindow {
  since: Date | null;
  until: Date | null;
}

/** The time window of a history page; null when it has none (the common page). */
export function parseTimeWindow(args: HistoryArgs): TimeWindow | null {
  const since = timeArg(args.since, 'since');
  const until = timeArg(args.until, 'until');
  if (since === null && until === null) return null;
  if (since && until && since.getTime() >= until.getTime()) {
    throw badInput('"since" must be before "until".', 'since');
  }
  return { since, until };
}

function timeArg(value: Date | string | null | undefined, field: string): Date | null {
  if (value === null || value === undefined) return null;
  const date = new Date(value);
  if (!Number.isFinite(date.getTime())) {
    throw badInput(`"${field}" must be a date and time (ISO 8601).`, field);
  }
  return date;
}

export async function listMessages(session: Session, conversationId: string, args: HistoryArgs) {
  const window = parseConnectionArgs(args, decodeMessageCursor);
  const time = parseTimeWindow(args);
  if (!isUuid(conversationId)) throw conversationNotFound();
  if (time) return listInWindow(session, conversationId, window, time);
  // Membership and the page in one round trip: a non-member gets no rows, so NOT_FOUND.
  const found = await readHistory(session, (db) =>
    listMessagesOfMember(db, conversationId, session.userId, pageQuery(window)),
  );
  if (!found) throw conversationNotFound();
  return connectionOf(session, conversationId, found.position, window, found.messages);
}

/** A page of a conversation the viewer is known to be in (`view` as just loaded). */
export async function listMessagesOf(session: Session, view: ConversationView, args: HistoryArgs) {
  // A view without a role is of a conversation the viewer is not in (a public group they look
  // at, one they just left): its details only, never its messages.
  if (view.viewerRole === null) throw conversationNotFound();
  const window = parseConnectionArgs(args, decodeMessageCursor);
  const time = parseTimeWindow(args);
  if (time) return listInWindow(session, view.id, window, time);
  const rows = await readHistory(session, (db) => listMessageRows(db, view.id, pageQuery(window)));
  return connectionOf(session, view.id, view, window, rows);
}

/**
 * A page within a time window: the window is one more bound on the seqs (see
 * db/message-windows.ts), so cursors, directions and sizes work as on any page.
 */
async function listInWindow(
  session: Session,
  conversationId: string,
  window: PageWindow<number>,
  time: TimeWindow,
) {
  const found = await readHistory(session, (db) =>
    listMessagesInWindow(db, conversationId, session.userId, time, pageQuery(window)),
  );
  if (!found) throw conversationNotFound();
  return connectionOf(session, conversationId, found.position, window, found.messages, found.run);
}

/** On a replica that has the reader's own writes, or on the primary (db/replicas.ts). */
const readHistory = <T>(session: Session, query: (db: Database) => Promise<T>) =>
  session.deps.historyReads.read(session.userId, query);

/** One more row than the page holds: whether there is more beyond it. */
const pageQuery = (window: PageWindow<number>): MessagePageQuery => ({
  direction: window.direction,
  limit: window.size + 1,
  afterSeq: window.after,
  beforeSeq: window.before,
});

async function connectionOf(
  session: Session,
  conversationId: string,
  position: MemberPosition,
  window: PageWindow<number>,
  rows: MessageRow[],
  /** A time window's seqs (the page was cut to them); absent: the whole history. */
  run?: SeqRun,
) {
  // Seqs run 1..lastSeq without holes (deleted messages stay as tombstones), so whether anything
  // lies before `after` or from `before` on is arithmetic, not another query.
  const somethingUpTo = run
    ? (seq: number | null) => seq !== null && seq >= run.low && run.high > run.low
    : (seq: number | null) => seq !== null && seq >= 1 && position.lastSeq >= 1;
  const somethingFrom = run
    ? (seq: number | null) => seq !== null && seq < run.high && run.high > run.low
    : (seq: number | null) => seq !== null && seq <= position.lastSeq;
  let page: MessageRow[];
  let hasPreviousPage: boolean;
  let hasNextPage: boolean;
  if (window.direction === 'forward') {
    page = rows.length > window.size ? rows.slice(0, window.size) : rows;
    hasNextPage = rows.length > window.size || somethingFrom(window.before);
    hasPreviousPage = somethingUpTo(window.after);
  } else {
    page = rows.length > window.size ? rows.slice(rows.length - window.size) : rows;
    hasPreviousPage = rows.length > window.size || somethingUpTo(window.after);
    hasNextPage = somethingFrom(window.before);
  }
  const newest = page.at(-1);
  // Reading marks what was read as delivered; a write only when it moves the mark.
  if (newest && newest.seq > position.viewerLastDeliveredSeq) {
    await session.loaders.delivered.load({ conversationId, seq: newest.seq });
  }
  return toConnection(page, messageCursor, hasPreviousPage, hasNextPage);
}

export type MessageStatus = 'SENT' | 'DELIVERED' | 'READ';

/** A message's status as its sender sees it, from the other members' positions. */
export function messageStatus(
  message: Pick<MessageRow, 'seq' | 'senderId'>,
  members: readonly MemberRow[],
): MessageStatus {
  const others = members.filter((m) => m.userId !== message.senderId);
  if (others.every((m) => m.lastReadSeq >= message.seq)) return 'READ';
  if (others.every((m) => m.lastDeliveredSeq >= message.seq)) return 'DELIVERED';
  return 'SENT';
}

/**
 * The status of a message as a live event delivers it: when it was sent nobody else had it yet
 * (READ when nobody else is in the conversation). From the instance's member set, so handing a
 * new message to its subscribers costs no query; anything else is read as usual.
 */
export function liveStatus(session: Session, message: LiveMessageRow): MessageStatus | null {
  // A changed message (edited, deleted, reacted to: it has a change position) is not new.
  if (message.memberVersion === undefined || message.changeSeq !== null) return null;
  const set = session.deps.memberSets.known(message.conversationId);
  if (!set || set.version < message.memberVersion) return null;
  // Anyone besides the sender? (A size check: a big room's set is not walked per event.)
  const others = set.userIds.size - (set.userIds.has(message.senderId) ? 1 : 0);
  return others > 0 ? 'SENT' : 'READ';
}

/**
 * A live event's status is known at once (no promise: the event's whole selection can then be
 * executed synchronously for every local subscriber); anything else is read.
 */
export function statusOf(
  session: Session,
  message: LiveMessageRow,
): MessageStatus | Promise<MessageStatus> {
  return (
    liveStatus(session, message) ??
    session.loaders.members
      .load(message.conversationId)
      .then((members) => messageStatus(message, members))
  );
}

/** A message's files, in order: none for most (no lookup), none once it is deleted. */
export function attachmentsOf(
  session: Session,
  message: MessageRow,
): AttachmentRow[] | Promise<AttachmentRow[]> {
  if (message.attachmentCount === 0 || message.deletedAt) return [];
  return session.loaders.attachments.load(message);
}

/** An earlier body of an edited message, and when an edit replaced it. */
export interface MessageEditView {
  body: string;
  editedAt: Date;
}

/**
 * A message's earlier bodies, oldest first (batched per request): none for a message never
 * edited (no lookup) and none once it is deleted (its earlier bodies were deleted with it).
 */
export function editsOf(
  session: Session,
  message: MessageRow,
): MessageEditView[] | Promise<MessageEditView[]> {
  if (!message.editedAt || message.deletedAt) return [];
  return session.loaders.edits
    .load(message)
    .then((rows) => rows.map((r) => ({ body: r.body, editedAt: r.replacedAt })));
}

/** The newest message of a conversation; fetching it delivers it to the viewer. */
export async function lastMessageOf(
  session: Session,
  view: ConversationView,
): Promise<MessageRow | null> {
  if (view.lastSeq === 0 || view.viewerRole === null) return null;
  const key = { conversationId: view.id, seq: view.lastSeq };
  const [message] = await Promise.all([
    session.loaders.message.load(key),
    // Written only when it moves the viewer's delivered mark.
    view.lastSeq > view.viewerLastDeliveredSeq ? session.loaders.delivered.load(key) : null,
  ]);
  return message ?? null;
}

/** Others' messages after the viewer's read mark (their own messages count as read). */
export const unreadCount = (view: ConversationView): number =>
  view.viewerRole === null ? 0 : Math.max(0, view.lastSeq - view.viewerLastReadSeq);
