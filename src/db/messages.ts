import { and, asc, desc, eq, getTableColumns, gt, lt, sql, type SQL } from 'drizzle-orm';
import {
  arrayLiteral,
  pgErrorCode,
  pgArray,
  preparedStatement,
  prepareOnce,
  type Executor,
} from './client.js';
import { conversationPairIn } from './conversation-keys.js';
import {
  conversationMembers,
  conversations,
  messages,
  users,
  type MessageRow,
  type PublicUser,
  type SystemEventData,
} from './schema.js';

export interface MessageKey {
  conversationId: string;
  seq: number;
}

/** A stored message with its sender's public fields (as they are now). */
export type MessageWithSender = MessageRow & { readonly sender: PublicUser };

// The search index's words (messages.bodyTsv) are no part of a message row: read everything else.
const { bodyTsv: _bodyTsv, ...messageColumns } = getTableColumns(messages);
/** A message's columns, as a message row has them (everything but the search index's words). */
export { messageColumns };

/** A message's columns and, beside them, its sender's phone and name (see withSender). */
const withSenderColumns = {
  ...messageColumns,
  senderPhone: users.phone,
  senderDisplayName: users.displayName,
};

/** A row read with its sender's phone and name beside it, those put into `sender`. */
const withSender = <T extends MessageRow>({
  senderPhone,
  senderDisplayName,
  ...message
}: T & { senderPhone: string | null; senderDisplayName: string }) => ({
  ...(message as unknown as T),
  sender: { id: message.senderId, phone: senderPhone, displayName: senderDisplayName },
});

export async function findMessage(db: Executor, key: MessageKey): Promise<MessageRow | undefined> {
  const [row] = await db
    .select(messageColumns)
    .from(messages)
    .where(and(eq(messages.conversationId, key.conversationId), eq(messages.seq, key.seq)));
  return row;
}

export function findMessagesByKeys(
  db: Executor,
  keys: readonly MessageKey[],
): Promise<MessageRow[]> {
  if (keys.length === 0) return Promise.resolve([]);
  return db
    .select(messageColumns)
    .from(messages)
    .where(
      conversationPairIn([messages.conversationId, messages.seq], keys, (k) => k.conversationId, [
        (k) => k.seq,
        'int',
      ]),
    );
}

/**
 * Changes a message and gives the change the conversation's next change position (under its
 * lock, so positions follow commit order without a gap). Returns it as its event carries it
 * (with its sender and the member set version); undefined when there is no such message.
 */
export async function updateMessage(
  db: Executor,
  key: MessageKey,
  // Empty: only the change position moves (a reaction changed).
  change: { body?: string | null; editedAt?: Date; deletedAt?: Date; mentionUserIds?: null },
): Promise<LiveMessage | undefined> {
  const [position] = await db
    .update(conversations)
    .set({ lastChangeSeq: sql`${conversations.lastChangeSeq} + 1` })
    .where(
      and(
        eq(conversations.id, key.conversationId),
        // An edit only of a message that is not deleted: a delete that committed while the edit
        // waited for the conversation's lock wins (this statement reads after that lock).
        typeof change.body === 'string'
          ? sql`exists (select 1 from ${messages} where ${messages.conversationId} = ${key.conversationId} and ${messages.seq} = ${key.seq} and ${messages.deletedAt} is null)`
          : sql`exists (select 1 from ${messages} where ${messages.conversationId} = ${key.conversationId} and ${messages.seq} = ${key.seq})`,
      ),
    )
    .returning({
      changeSeq: conversations.lastChangeSeq,
      memberVersion: conversations.memberVersion,
    });
  if (!position) return undefined;
  const [row] = await db
    .update(messages)
    .set({ ...change, changeSeq: position.changeSeq })
    .from(users)
    .where(
      and(
        eq(messages.conversationId, key.conversationId),
        eq(messages.seq, key.seq),
        eq(users.id, messages.senderId),
      ),
    )
    .returning(withSenderColumns);
  return row && { ...withSender(row), memberVersion: position.memberVersion };
}

/** A stored message with what its event carries: the sender's public fields and the member set version. */
export type LiveMessage = MessageWithSender & { readonly memberVersion: number };

/** These messages as their events carry them (for the outbox drainer). */
export async function findLiveMessages(
  db: Executor,
  keys: readonly MessageKey[],
): Promise<LiveMessage[]> {
  if (keys.length === 0) return [];
  const rows = await db
    .select({ ...withSenderColumns, memberVersion: conversations.memberVersion })
    .from(messages)
    .innerJoin(users, eq(users.id, messages.senderId))
    .innerJoin(conversations, eq(conversations.id, messages.conversationId))
    .where(
      conversationPairIn([messages.conversationId, messages.seq], keys, (k) => k.conversationId, [
        (k) => k.seq,
        'int',
      ]),
    );
  return rows.map(withSender);
}

/**
 * Messages of a conversation changed after change position `afterChangeSeq`, each in its newest
 * state, in change order (a messageUpdated stream catching up).
 */
export async function listChangedMessages(
  db: Executor,
  conversationId: string,
  afterChangeSeq: number,
  limit: number,
): Promise<MessageWithSender[]> {
  const rows = await db
    .select(withSenderColumns)
    .from(messages)
    .innerJoin(users, eq(users.id, messages.senderId))
    .where(and(eq(messages.conversationId, conversationId), gt(messages.changeSeq, afterChangeSeq)))
    .orderBy(asc(messages.changeSeq))
    .limit(limit);
  return rows.map(withSender);
}

export interface MessagePageQuery {
  direction: 'forward' | 'backward';
  limit: number;
  afterSeq: number | null;
  beforeSeq: number | null;
}

export const MAX_SEQ = 2_147_483_647; // seq is an int

// One statement per direction; an open end of the range is bound as 0 or MAX_SEQ. Each row
// comes with its sender's public fields: a page (or a stream catching up) resolves `sender`
// without another lookup.
const pageQuery = (forward: boolean) =>
  prepareOnce((db) =>
    db
      .select(withSenderColumns)
      .from(messages)
      .innerJoin(users, eq(users.id, messages.senderId))
      .where(
        and(
          eq(messages.conversationId, sql.placeholder('conversationId')),
          gt(messages.seq, sql.placeholder('afterSeq')),
          lt(messages.seq, sql.placeholder('beforeSeq')),
        ),
      )
      .orderBy(forward ? asc(messages.seq) : desc(messages.seq))
      .limit(sql.placeholder('limit'))
      .prepare(forward ? 'messages_forward' : 'messages_backward'),
  );
const forwardPage = pageQuery(true);
const backwardPage = pageQuery(false);

/** Messages of a conversation within (afterSeq, beforeSeq), oldest → newest. */
export async function listMessages(
  db: Executor,
  conversationId: string,
  q: MessagePageQuery,
): Promise<MessageWithSender[]> {
  const forward = q.direction === 'forward';
  const rows = await (forward ? forwardPage : backwardPage)(db).execute({
    conversationId,
    afterSeq: q.afterSeq ?? 0,
    beforeSeq: q.beforeSeq ?? MAX_SEQ,
    limit: q.limit,
  });
  const withSenders = rows.map(withSender);
  return forward ? withSenders : withSenders.reverse();
}

/** Where a member stands in a conversation, as a page of its messages needs it. */
export interface MemberPosition {
  readonly lastSeq: number;
  readonly viewerLastDeliveredSeq: number;
}

// The member's position and the page in one statement: no rows when the user is not a member,
// one row of nulls beside the position when the page is empty. The columns, in order:
export type PageRow = [
  lastSeq: number,
  lastDeliveredSeq: number,
  // The message, all null when the page is empty:
  seq: number | null,
  senderId: string,
  body: string | null,
  clientMessageId: string | null,
  createdAt: string | Date,
  editedAt: string | Date | null,
  deletedAt: string | Date | null,
  attachmentCount: number,
  changeSeq: number | null,
  senderPhone: string | null,
  senderDisplayName: string,
  kind: 'USER' | 'SYSTEM',
  systemEvent: SystemEventData | null,
  replyToSeq: number | null,
  replyCount: number,
  mentionUserIds: unknown,
];

const memberPageSql = (forward: boolean) => sql`
  select v.last_seq, v.last_delivered_seq, p.seq, p.sender_id, p.body, p.client_message_id,
         p.created_at, p.edited_at, p.deleted_at, p.attachment_count, p.change_seq,
         p.sender_phone, p.sender_display_name, p.kind, p.system_event,
         p.reply_to_seq, p.reply_count, p.mention_user_ids
    from (select c.last_seq, m.last_delivered_seq
            from conversations c
            join conversation_members m
              on m.conversation_id = c.id and m.user_id = ${sql.placeholder('userId')}
           where c.id = ${sql.placeholder('conversationId')}) v
    left join lateral (
      select msg.seq, msg.sender_id, msg.body, msg.client_message_id, msg.created_at,
             msg.edited_at, msg.deleted_at, msg.attachment_count, msg.change_seq,
             u.phone as sender_phone, u.display_name as sender_display_name,
             msg.kind, msg.system_event, msg.reply_to_seq, msg.reply_count, msg.mention_user_ids
        from messages msg
        join users u on u.id = msg.sender_id
       where msg.conversation_id = ${sql.placeholder('conversationId')}
         and msg.seq > ${sql.placeholder('afterSeq')} and msg.seq < ${sql.placeholder('beforeSeq')}
       order by msg.seq ${forward ? sql`asc` : sql`desc`}
       limit ${sql.placeholder('limit')}) p on true`;

/**
 * A uuid[] as the drivers give it (an array; its text form '{…}' where a driver left it unparsed)
 * → the ids, or null for NULL.
 */
export function uuidsOrNull(v: unknown): string[] | null {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v as string[];
  const text = String(v);
  return text === '{}' ? [] : text.slice(1, -1).split(',');
}

/** A timestamp as the drivers give it (postgres.js: text, PGlite: a Date) → a Date. */
export const toDate = (v: string | Date) => (typeof v === 'string' ? new Date(v) : v);
export const toDateOrNull = (v: string | Date | null) => (v === null ? null : toDate(v));

/** A message's columns as a raw statement returns them (snake case, driver types). */
export interface MessageSqlRow {
  seq: number;
  sender_id: string;
  body: string | null;
  client_message_id: string | null;
  created_at: string | Date;
  edited_at: string | Date | null;
  deleted_at: string | Date | null;
  attachment_count: number;
  change_seq: number | null;
  /** Absent where the statement reads USER messages only. */
  kind?: 'USER' | 'SYSTEM';
  system_event?: SystemEventData | null;
  reply_to_seq: number | null;
  reply_count: number;
  mention_user_ids: unknown;
}

/** The message row of a raw statement's row (of conversation `conversationId`). */
export function messageFromSql(conversationId: string, r: MessageSqlRow): MessageRow {
  return {
    conversationId,
    seq: r.seq,
    senderId: r.sender_id,
    body: r.body,
    clientMessageId: r.client_message_id,
    createdAt: toDate(r.created_at),
    editedAt: toDateOrNull(r.edited_at),
    deletedAt: toDateOrNull(r.deleted_at),
    attachmentCount: Number(r.attachment_count),
    changeSeq: r.change_seq,
    kind: r.kind ?? 'USER',
    systemEvent: r.system_event ?? null,
    replyToSeq: r.reply_to_seq,
    replyCount: Number(r.reply_count),
    mentionUserIds: uuidsOrNull(r.mention_user_ids),
  };
}

const memberPage = (forward: boolean) =>
  preparedStatement(
    forward ? 'member_messages_forward' : 'member_messages_backward',
    memberPageSql(forward),
    (rows) => rows as PageRow[],
  );
const memberForwardPage = memberPage(true);
const memberBackwardPage = memberPage(false);

/**
 * A page of a conversation (as listMessages) with where the member stands in it, in one round
 * trip; undefined when `userId` is not a member. Rows are built here rather than by the ORM's
 * per-column mapping: a page is the API's most frequent read.
 */
export async function listMessagesOfMember(
  db: Executor,
  conversationId: string,
  userId: string,
  q: MessagePageQuery,
): Promise<{ position: MemberPosition; messages: MessageWithSender[] } | undefined> {
  const forward = q.direction === 'forward';
  const rows = await (forward ? memberForwardPage : memberBackwardPage)(db).execute({
    conversationId,
    userId,
    afterSeq: q.afterSeq ?? 0,
    beforeSeq: q.beforeSeq ?? MAX_SEQ,
    limit: q.limit,
  });
  const first = rows[0];
  if (!first) return undefined;
  const position = { lastSeq: first[0], viewerLastDeliveredSeq: first[1] };
  return { position, messages: pageMessages(conversationId, rows, forward) };
}

/** The messages of a member page's rows (see PageRow), oldest → newest. */
export function pageMessages(
  conversationId: string,
  rows: readonly PageRow[],
  forward: boolean,
): MessageWithSender[] {
  if (rows.length === 0 || rows[0]![2] === null) return [];
  const messages = new Array<MessageWithSender>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[forward ? i : rows.length - 1 - i]!;
    messages[i] = {
      conversationId,
      seq: r[2]!,
      senderId: r[3],
      body: r[4],
      clientMessageId: r[5],
      createdAt: toDate(r[6]),
      editedAt: toDateOrNull(r[7]),
      deletedAt: toDateOrNull(r[8]),
      attachmentCount: r[9],
      changeSeq: r[10],
      kind: r[13],
      systemEvent: r[14],
      replyToSeq: r[15],
      replyCount: Number(r[16]),
      mentionUserIds: uuidsOrNull(r[17]),
      sender: { id: r[3], phone: r[11], displayName: r[12] },
    };
  }
  return messages;
}

/**
 * SQLSTATEs the send function raises (drizzle/0014) for what the sender asked that cannot be:
 * an attachment that is not their unattached upload, a reply to no message of the conversation,
 * a reply to a deleted or SYSTEM message, a mention of someone who is not a member.
 */
const REFUSALS = {
  P0002: 'attachmentNotAvailable',
  PY001: 'replyNotFound',
  PY002: 'replyNotAnswerable',
  PY003: 'mentionNotMember',
} as const;

export type SendRefusal = (typeof REFUSALS)[keyof typeof REFUSALS];

export interface SendResult {
  message: MessageRow;
  /** The sender's public fields and the member set version, for the event. */
  sender: PublicUser;
  memberVersion: number;
  /** The stored message of an earlier send with the same client message id. */
  existed: boolean;
  outboxId: number | null;
}

/**
 * A row of the send functions (drizzle/0014 parley_send_message and parley_send_messages): they
 * make (and find by client message id) people's messages only, so it has no kind.
 */
interface SentRow extends MessageSqlRow {
  conversation_id: string;
  existed: boolean;
  outbox_id: string | number | null;
  sender_phone: string | null;
  sender_display_name: string;
  member_version: number;
}

function toSendResult(row: SentRow): SendResult {
  return {
    message: messageFromSql(row.conversation_id, row),
    existed: row.existed,
    outboxId: row.outbox_id === null ? null : Number(row.outbox_id),
    sender: { id: row.sender_id, phone: row.sender_phone, displayName: row.sender_display_name },
    memberVersion: Number(row.member_version),
  };
}

/** A message sent on its own (see sendInOneStatement). */
export interface SendOneInput {
  conversationId: string;
  senderId: string;
  body: string;
  clientMessageId: string | null;
  /** Uploads of the sender to attach (validated uuids); empty: none. */
  attachmentIds: readonly string[];
  /** The seq of the message (same conversation) it replies to; null: none. */
  replyToSeq: number | null;
  /** Members it mentions (validated, distinct uuids, in order); empty: none. */
  mentionUserIds: readonly string[];
}

/**
 * The whole send in one statement (drizzle/0014 parley_send_message), for a message with
 * attachments, a reply or mentions; a plain message goes through sendBatch. Undefined when the
 * sender is not a member of the conversation; `refused` (and nothing written) when what it asks
 * cannot be: see SendRefusal.
 */
export async function sendInOneStatement(
  db: Executor,
  input: SendOneInput,
): Promise<SendResult | { refused: SendRefusal } | undefined> {
  try {
    const [row] = (await sendOneQuery(db).execute({
      conversationId: input.conversationId,
      senderId: input.senderId,
      body: input.body,
      clientMessageId: input.clientMessageId,
      attachmentIds: arrayLiteral(input.attachmentIds),
      replyToSeq: input.replyToSeq,
      mentionUserIds: input.mentionUserIds.length > 0 ? arrayLiteral(input.mentionUserIds) : null,
    })) as unknown as SentRow[];
    return row && toSendResult(row);
  } catch (err) {
    // The one statement failed as a whole: nothing was written.
    const refused = REFUSALS[pgErrorCode(err) as keyof typeof REFUSALS] as SendRefusal | undefined;
    if (refused) return { refused };
    throw err;
  }
}

/** One message of a batch (no attachments, reply or mentions). */
export interface SendItem {
  conversationId: string;
  senderId: string;
  body: string;
  clientMessageId: string | null;
}

const SENT_COLUMNS = [
  'conversation_id',
  'seq',
  'sender_id',
  'body',
  'client_message_id',
  'created_at',
  'edited_at',
  'deleted_at',
  'attachment_count',
  'existed',
  'outbox_id',
  'sender_phone',
  'sender_display_name',
  'member_version',
  'change_seq',
  'reply_to_seq',
  'reply_count',
  'mention_user_ids',
] as const;

/** The send functions' columns, selected by name (`ord` too for a batch). */
const sentColumns = (names: readonly (keyof SentRow | 'ord')[]) =>
  Object.fromEntries(names.map((n) => [n, sql.raw(n)])) as Record<keyof SentRow | 'ord', SQL>;

// Both are prepared (named): parsed once per connection, then one round trip per call.
const sendOneQuery = prepareOnce((db) =>
  db
    .select(sentColumns(SENT_COLUMNS))
    .from(
      sql`parley_send_message(${sql.placeholder('conversationId')}::uuid, ${sql.placeholder('senderId')}::uuid, ${sql.placeholder('body')}::text, ${sql.placeholder('clientMessageId')}::text, ${sql.placeholder('attachmentIds')}::uuid[], ${sql.placeholder('replyToSeq')}::int, ${sql.placeholder('mentionUserIds')}::uuid[])`,
    )
    .prepare('send_message'),
);

const sendBatchQuery = prepareOnce((db) =>
  db
    .select(sentColumns(['ord', ...SENT_COLUMNS]))
    .from(
      sql`parley_send_batch(${sql.placeholder('conversationIds')}::uuid[], ${sql.placeholder('senderIds')}::uuid[], ${sql.placeholder('bodies')}::text[], ${sql.placeholder('clientMessageIds')}::text[])`,
    )
    .prepare('send_batch'),
);

/**
 * Sends messages in one statement and one commit (drizzle/0018 parley_send_batch): each
 * conversation's under its lock, seqs in item order after its last. The items must come grouped
 * by conversation, the groups in ascending id order (lower-case ids sort as PostgreSQL sorts
 * uuids), which is what keeps two batches from deadlocking. Result i is item i's message;
 * undefined where the sender is not a member.
 */
export async function sendBatch(
  db: Executor,
  items: readonly SendItem[],
): Promise<(SendResult | undefined)[]> {
  const rows = (await sendBatchQuery(db).execute({
    conversationIds: arrayLiteral(items.map((i) => i.conversationId)),
    senderIds: arrayLiteral(items.map((i) => i.senderId)),
    bodies: arrayLiteral(items.map((i) => i.body)),
    clientMessageIds: arrayLiteral(items.map((i) => i.clientMessageId)),
  })) as unknown as (SentRow & { ord: number })[];
  const results: (SendResult | undefined)[] = new Array<SendResult | undefined>(items.length);
  for (const row of rows) results[Number(row.ord) - 1] = toSendResult(row);
  return results;
}

/**
 * Appends a SYSTEM message by `actorId` (under the conversation's lock, which the caller holds):
 * it takes the next seq like any message, and counts as read by its actor and by `readBy`.
 */
export async function insertSystemMessage(
  db: Executor,
  conversationId: string,
  actorId: string,
  event: SystemEventData,
  readBy: readonly string[] = [],
): Promise<MessageRow> {
  const [position] = await db
    .update(conversations)
    .set({
      lastSeq: sql`${conversations.lastSeq} + 1`,
      updatedAt: sql`greatest(now(), ${conversations.updatedAt})`,
    })
    .where(eq(conversations.id, conversationId))
    .returning({ seq: conversations.lastSeq, at: conversations.updatedAt });
  const [row] = await db
    .insert(messages)
    .values({
      conversationId,
      seq: position!.seq,
      senderId: actorId,
      body: null,
      createdAt: position!.at,
      kind: 'SYSTEM',
      systemEvent: event,
    })
    .returning(messageColumns);
  await db
    .update(conversationMembers)
    .set({
      lastReadSeq: sql`greatest(${conversationMembers.lastReadSeq}, ${position!.seq})`,
      lastDeliveredSeq: sql`greatest(${conversationMembers.lastDeliveredSeq}, ${position!.seq})`,
    })
    .where(
      and(
        eq(conversationMembers.conversationId, conversationId),
        sql`${conversationMembers.userId} = any(${pgArray([actorId, ...readBy], 'uuid')})`,
      ),
    );
  return row!;
}
