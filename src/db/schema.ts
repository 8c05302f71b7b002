// Tables. Every key of a per-conversation table leads with conversation_id, so the tables can
// later be distributed by it (DESIGN.md §4). messages, message_mentions, message_reactions,
// message_edits, outbox, webhook_events and push_deliveries are hash-partitioned by
// conversation_id (16 partitions, drizzle/0016). Drizzle cannot declare partitioning: the
// definitions below describe the parent tables, which is all drizzle-kit compares, and each
// partition has the parent's columns, keys and indexes.
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  customType,
  foreignKey,
  smallint,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

// Millisecond precision, so a timestamp round-trips through a JavaScript Date (and a cursor) exactly.
const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });

/** PostgreSQL's full-text document type (only ever written by the database: see messages.bodyTsv). */
const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey(),
    /** E.164; null for a user who signed up with an email only. */
    phone: text('phone').unique('users_phone_key'),
    /** As the user typed it; unique without regard to case (users_email_key on lower(email)). */
    email: text('email'),
    displayName: text('display_name').notNull(),
    passwordHash: text('password_hash').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    lastSeenAt: ts('last_seen_at'),
  },
  (t) => [
    uniqueIndex('users_email_key').on(sql`lower(${t.email})`),
    check('users_identifier_check', sql`${t.phone} is not null or ${t.email} is not null`),
  ],
);

export const conversations = pgTable(
  'conversations',
  {
    id: uuid('id').primaryKey(),
    kind: text('kind', { enum: ['DIRECT', 'GROUP'] }).notNull(),
    title: text('title'),
    /** The seq of the newest message; the next message gets last_seq + 1. */
    lastSeq: integer('last_seq').notNull().default(0),
    /**
     * Grows with every change of the member set, in the transaction that makes it. Message events
     * carry it, so an instance that knows the members at an older version reloads them first.
     */
    memberVersion: integer('member_version').notNull().default(0),
    /**
     * The position of the newest change to a message (an edit, a delete): every change takes
     * last_change_seq + 1 under the conversation's lock, so changes are numbered gap-free in
     * commit order, like messages by seq, and a messageUpdated stream resumes from one.
     */
    lastChangeSeq: integer('last_change_seq').notNull().default(0),
    createdAt: ts('created_at').notNull().defaultNow(),
    /** Latest activity: creation or the newest message. Orders the conversation list. */
    updatedAt: ts('updated_at').notNull().defaultNow(),
    /** A group's description (null: none). */
    description: text('description'),
    /** A group's picture: an uploaded image (attachments.id), bound to the conversation. */
    avatarAttachmentId: uuid('avatar_attachment_id'),
    /** PUBLIC groups are listed by publicConversations and joinable without an invite. */
    visibility: text('visibility', { enum: ['PRIVATE', 'PUBLIC'] })
      .notNull()
      .default('PRIVATE'),
    /** How many members it has, kept by a trigger on conversation_members (drizzle/0011). */
    memberCount: integer('member_count').notNull().default(0),
  },
  (t) => [
    check('conversations_kind_check', sql`${t.kind} in ('DIRECT', 'GROUP')`),
    check(
      'conversations_visibility_check',
      sql`${t.visibility} = 'PRIVATE' or (${t.visibility} = 'PUBLIC' and ${t.kind} = 'GROUP')`,
    ),
    index('conversations_public_idx')
      .on(t.memberCount.desc(), t.id)
      .where(sql`${t.visibility} = 'PUBLIC'`),
  ],
);

/** One row per pair of users with a 1:1 conversation; user_low < user_high. */
export const directConversations = pgTable(
  'direct_conversations',
  {
    userLow: uuid('user_low')
      .notNull()
      .references(() => users.id),
    userHigh: uuid('user_high')
      .notNull()
      .references(() => users.id),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
  },
  (t) => [
    primaryKey({ columns: [t.userLow, t.userHigh] }),
    check('direct_conversations_order_check', sql`${t.userLow} < ${t.userHigh}`),
  ],
);

export const conversationMembers = pgTable(
  'conversation_members',
  {
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    joinedAt: ts('joined_at').notNull().defaultNow(),
    lastReadSeq: integer('last_read_seq').notNull().default(0),
    lastDeliveredSeq: integer('last_delivered_seq').notNull().default(0),
    /** The conversation's last_seq and last_change_seq when the member joined: where their streams start. */
    joinedSeq: integer('joined_seq').notNull().default(0),
    joinedChangeSeq: integer('joined_change_seq').notNull().default(0),
    /** Muted until then ('infinity': until unmuted); null or past: not muted. No pushes while muted. */
    mutedUntil: timestamp('muted_until', { withTimezone: true, precision: 3, mode: 'string' }),
    /** When the read position last moved (null: not since drizzle/0011). */
    lastReadAt: ts('last_read_at'),
    /** OWNER (one per group: the creator, until they hand it on), ADMIN or MEMBER. */
    role: text('role', { enum: ['OWNER', 'ADMIN', 'MEMBER'] })
      .notNull()
      .default('MEMBER'),
  },
  (t) => [
    primaryKey({ columns: [t.conversationId, t.userId] }),
    index('conversation_members_user_idx').on(t.userId),
    check('conversation_members_role_check', sql`${t.role} in ('OWNER', 'ADMIN', 'MEMBER')`),
    // At most one owner per group (a transfer demotes the owner before it promotes the next).
    uniqueIndex('conversation_members_owner_idx')
      .on(t.conversationId)
      .where(sql`${t.role} = 'OWNER'`),
  ],
);

export const messages = pgTable(
  'messages',
  {
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    senderId: uuid('sender_id')
      .notNull()
      .references(() => users.id),
    body: text('body'),
    clientMessageId: text('client_message_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
    editedAt: ts('edited_at'),
    deletedAt: ts('deleted_at'),
    /** How many attachments the message has: most have none, and then none are looked up. */
    attachmentCount: smallint('attachment_count').notNull().default(0),
    /** The conversation's change position of this message's newest change; null: never changed. */
    changeSeq: integer('change_seq'),
    /** USER: sent by its sender; SYSTEM: a membership or settings change, made by its sender. */
    kind: text('kind', { enum: ['USER', 'SYSTEM'] })
      .notNull()
      .default('USER'),
    /** What a SYSTEM message records (domain/system-messages.ts); null for USER messages. */
    systemEvent: jsonb('system_event').$type<SystemEventData>(),
    /** The seq of the message (same conversation) this one replies to; null: not a reply. */
    replyToSeq: integer('reply_to_seq'),
    /** How many messages reply to this one (kept by the send function). */
    replyCount: integer('reply_count').notNull().default(0),
    /** Members mentioned, in the order the sender gave them; null: none. */
    mentionUserIds: uuid('mention_user_ids').array(),
    /**
     * The body's words for searchMessages (src/db/search.ts), made by the database when the body
     * is written ('simple' configuration; null without a body). Stored so that ranking and
     * rechecking a match read it instead of parsing the body again. Never read into message rows
     * (see messageColumns in src/db/messages.ts).
     */
    bodyTsv: tsvector('body_tsv').generatedAlwaysAs(sql`to_tsvector('simple', body)`),
  },
  (t) => [
    primaryKey({ columns: [t.conversationId, t.seq] }),
    // searchMessages' word index. Its substring index (pg_trgm on body, same predicate) is made
    // by hand in drizzle/0012: drizzle cannot declare an operator class on a plain column yet.
    index('messages_body_tsv_idx')
      .using('gin', t.bodyTsv)
      .where(sql`${t.deletedAt} is null and ${t.body} is not null`),
    index('messages_reply_idx')
      .on(t.conversationId, t.replyToSeq, t.seq)
      .where(sql`${t.replyToSeq} is not null`),
    index('messages_change_idx')
      .on(t.conversationId, t.changeSeq)
      .where(sql`${t.changeSeq} is not null`),
    unique('messages_client_message_id_key').on(t.conversationId, t.senderId, t.clientMessageId),
    check('messages_kind_check', sql`${t.kind} in ('USER', 'SYSTEM')`),
  ],
);

/** Who is mentioned where: one row per (mentioned user, message), for unreadMentionCount. */
export const messageMentions = pgTable(
  'message_mentions',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    conversationId: uuid('conversation_id').notNull(),
    seq: integer('seq').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.conversationId, t.userId, t.seq] }),
    foreignKey({
      columns: [t.conversationId, t.seq],
      foreignColumns: [messages.conversationId, messages.seq],
      name: 'message_mentions_message_fk',
    }).onDelete('cascade'),
  ],
);

/** Emoji reactions: one row per (message, emoji, user), so the same reaction twice is one. */
export const messageReactions = pgTable(
  'message_reactions',
  {
    conversationId: uuid('conversation_id').notNull(),
    seq: integer('seq').notNull(),
    /** One emoji grapheme cluster, or a short :name:. */
    emoji: text('emoji').notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.conversationId, t.seq, t.emoji, t.userId] }),
    foreignKey({
      columns: [t.conversationId, t.seq],
      foreignColumns: [messages.conversationId, messages.seq],
      name: 'message_reactions_message_fk',
    }).onDelete('cascade'),
  ],
);

/** Earlier bodies of an edited message: `version` 1 is the original, each replaced at `replacedAt`. */
export const messageEdits = pgTable(
  'message_edits',
  {
    conversationId: uuid('conversation_id').notNull(),
    seq: integer('seq').notNull(),
    version: integer('version').notNull(),
    body: text('body').notNull(),
    replacedAt: ts('replaced_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.conversationId, t.seq, t.version] }),
    foreignKey({
      columns: [t.conversationId, t.seq],
      foreignColumns: [messages.conversationId, messages.seq],
      name: 'message_edits_message_fk',
    }).onDelete('cascade'),
  ],
);

/** What a SYSTEM message records; its actor is the message's sender. */
export interface SystemEventData {
  type:
    | 'MEMBERS_ADDED'
    | 'MEMBER_REMOVED'
    | 'MEMBER_LEFT'
    | 'MEMBER_JOINED'
    | 'ROLE_CHANGED'
    | 'OWNERSHIP_TRANSFERRED'
    | 'DETAILS_CHANGED';
  /** Whom it is about (added, removed, given a role, made owner); empty when only the actor. */
  subjectIds: string[];
  /** ROLE_CHANGED: the role given. */
  role?: 'OWNER' | 'ADMIN' | 'MEMBER';
  /** DETAILS_CHANGED: which of title, description, avatar, visibility changed. */
  fields?: string[];
  /** DETAILS_CHANGED: the title after the change, when it changed. */
  title?: string;
}

/** A system message's event with its actor (the message's sender), as the API shows it. */
export type SystemEventView = SystemEventData & { actorId: string };

/**
 * Invite codes of a group. Looked up by code (not by conversation first), like an attachment by
 * id: a code is the key a joiner has.
 */
export const invites = pgTable(
  'invites',
  {
    code: text('code').primaryKey(),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    createdBy: uuid('created_by')
      .notNull()
      .references(() => users.id),
    createdAt: ts('created_at').notNull().defaultNow(),
    /** Null: never expires. */
    expiresAt: ts('expires_at'),
    /** Joins it still allows; null: any number. */
    usesLeft: integer('uses_left'),
    revokedAt: ts('revoked_at'),
  },
  (t) => [
    index('invites_conversation_idx').on(t.conversationId),
    check('invites_uses_left_check', sql`${t.usesLeft} is null or ${t.usesLeft} >= 0`),
  ],
);

/**
 * Events committed with the change that caused them and published after the commit. A row left
 * behind (publish failed, process died) is published by any instance's drainer.
 */
export const outbox = pgTable(
  'outbox',
  {
    conversationId: uuid('conversation_id').notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    /** Rows written before drizzle/0007: the topic of `payload`, a whole event. */
    topic: text('topic'),
    /** A JSON `OutboxRecord` (domain/events.ts): what rebuilds the event, not the event. */
    payload: text('payload').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.conversationId, t.id] }),
    index('outbox_created_at_idx').on(t.createdAt),
  ],
);

/**
 * Uploaded files. A row is written at upload, unattached (conversation_id null); sending a
 * message sets conversation_id, message_seq and position (drizzle/0004). Unattached rows older
 * than a day are swept with their blobs. Keyed by id, because an upload exists before it belongs
 * to a conversation; a download finds it by id and then checks membership of conversation_id.
 */
export const attachments = pgTable(
  'attachments',
  {
    id: uuid('id').primaryKey(),
    uploaderId: uuid('uploader_id')
      .notNull()
      .references(() => users.id),
    /** Sniffed from the bytes: image/jpeg|png|webp|gif, application/pdf or text/plain. */
    mimeType: text('mime_type').notNull(),
    /** Bytes of the stored (served) original. */
    size: integer('size').notNull(),
    width: integer('width'),
    height: integer('height'),
    /** The uploader's file name, cleaned; for Content-Disposition. */
    filename: text('filename').notNull(),
    /** Bytes of the WebP thumbnail (images only). */
    thumbnailSize: integer('thumbnail_size'),
    createdAt: ts('created_at').notNull().defaultNow(),
    conversationId: uuid('conversation_id'),
    messageSeq: integer('message_seq'),
    /** Order within its message, from 0. */
    position: smallint('position'),
  },
  (t) => [
    index('attachments_message_idx')
      .on(t.conversationId, t.messageSeq, t.position)
      .where(sql`${t.conversationId} is not null`),
    index('attachments_unattached_idx')
      .on(t.createdAt)
      .where(sql`${t.conversationId} is null`),
    check(
      'attachments_attached_check',
      sql`(${t.conversationId} is null) = (${t.messageSeq} is null) and (${t.conversationId} is null) = (${t.position} is null)`,
    ),
  ],
);

/**
 * Blobs whose attachment is gone (its message was deleted), waiting to be removed from storage.
 * Written in the transaction that deletes the message, so a crash before the files are removed
 * leaves a row for the next sweep instead of a file nobody knows about.
 */
export const discardedBlobs = pgTable('discarded_blobs', {
  key: text('key').primaryKey(),
  discardedAt: ts('discarded_at').notNull().defaultNow(),
});

/**
 * Where a stream across all of a user's conversations stood (a position per conversation), saved
 * so that its cursor can name it instead of carrying it (see domain/streams/stream-cursor.ts).
 */
export const streamBases = pgTable(
  'stream_bases',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id').notNull(),
    /** JSON: { [conversationId]: position }. */
    positions: text('positions').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('stream_bases_created_at_idx').on(t.createdAt)],
);

/**
 * Who blocked whom. The blocker gets no push and no presence or typing from the blocked user, and
 * sees their group messages flagged; the blocked user cannot open or write a direct conversation
 * with the blocker.
 */
export const userBlocks = pgTable(
  'user_blocks',
  {
    blockerId: uuid('blocker_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    blockedId: uuid('blocked_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.blockerId, t.blockedId] }),
    index('user_blocks_blocked_idx').on(t.blockedId),
  ],
);

/** A browser's Web Push subscription (RFC 8030): where to push and the keys to encrypt for. */
export const pushSubscriptions = pgTable(
  'push_subscriptions',
  {
    endpoint: text('endpoint').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    p256dh: text('p256dh').notNull(),
    auth: text('auth').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('push_subscriptions_user_idx').on(t.userId)],
);

/**
 * What the instances have said about notifications (one row): the outbox trigger reads it to
 * decide, inside the transaction that writes an event, which notification work to enqueue.
 */
export const notificationSettings = pgTable(
  'notification_settings',
  {
    id: smallint('id').primaryKey().default(1),
    pushDelayMs: integer('push_delay_ms').notNull().default(3_000),
    /** Set while some instance holds VAPID keys; pushes are scheduled only then. */
    pushEnabled: boolean('push_enabled').notNull().default(false),
    /** The webhook URLs events are recorded for; empty: none are. */
    webhookEndpoints: text('webhook_endpoints')
      .array()
      .notNull()
      .default(sql`'{}'`),
    /** Whether pushes may carry a preview of the message body. */
    pushPreview: boolean('push_preview').notNull().default(true),
  },
  (t) => [check('notification_settings_one_row', sql`${t.id} = 1`)],
);

/** How far the push check of a conversation has gone: messages after it are not yet due. */
export const pushCursors = pgTable('push_cursors', {
  conversationId: uuid('conversation_id')
    .primaryKey()
    .references(() => conversations.id, { onDelete: 'cascade' }),
  lastSeq: integer('last_seq').notNull(),
  /** When the pending check is due; null: none is pending (the next message schedules one). */
  checkAt: ts('check_at'),
});

/**
 * One row per (message, device) that was due a push: the claim that makes it at most one push.
 * `sending_at` is set before the push service is called, `sent_at` once it accepted.
 */
export const pushDeliveries = pgTable(
  'push_deliveries',
  {
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    endpoint: text('endpoint').notNull(),
    userId: uuid('user_id').notNull(),
    attempts: integer('attempts').notNull().default(0),
    sendingAt: ts('sending_at'),
    sentAt: ts('sent_at'),
    /** Why it was not sent: READ (read meanwhile), GONE (subscription ended), FAILED. */
    outcome: text('outcome'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.conversationId, t.seq, t.endpoint] }),
    index('push_deliveries_created_at_idx').on(t.createdAt),
  ],
);

/**
 * Events for webhooks, written in the transaction of the change (by the outbox trigger) or of
 * the push check (message.undelivered); `id` is their order within a conversation, since every
 * writer holds the conversation's row lock.
 */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    conversationId: uuid('conversation_id').notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    type: text('type').notNull(),
    seq: integer('seq'),
    /** The member joined or left, or the recipient a message did not reach. */
    userId: uuid('user_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.conversationId, t.id] }),
    index('webhook_events_created_at_idx').on(t.createdAt),
  ],
);

/** How far each webhook endpoint has taken each conversation's events, and its failures. */
export const webhookCursors = pgTable(
  'webhook_cursors',
  {
    endpoint: text('endpoint').notNull(),
    conversationId: uuid('conversation_id').notNull(),
    lastId: bigint('last_id', { mode: 'number' }).notNull().default(0),
    failures: integer('failures').notNull().default(0),
    failingSince: ts('failing_since'),
  },
  (t) => [primaryKey({ columns: [t.endpoint, t.conversationId] })],
);

/** The job queue's workers (graphile-worker) and when their instance was last seen alive. */
export const jobWorkers = pgTable('job_workers', {
  workerId: text('worker_id').primaryKey(),
  seenAt: ts('seen_at').notNull().defaultNow(),
});

export type UserRow = typeof users.$inferSelect;
export type ConversationRow = typeof conversations.$inferSelect;
export type MemberRow = typeof conversationMembers.$inferSelect;
/** A message as the API reads it: bodyTsv is the search index's, never part of a message row. */
export type MessageRow = Omit<typeof messages.$inferSelect, 'bodyTsv'>;
export type AttachmentRow = typeof attachments.$inferSelect;
export type InviteRow = typeof invites.$inferSelect;

/** What any signed-in user may see of a user (never the password hash). */
export type PublicUser = Pick<UserRow, 'id' | 'phone' | 'displayName'>;

/**
 * A message as a live event delivers it: with its sender as they were when it was sent and the
 * conversation's member set version then, so handing it on needs no lookup.
 */
export type LiveMessageRow = MessageRow & {
  readonly sender?: PublicUser;
  readonly memberVersion?: number;
};
