// The one definition of what travels between instances: each kind of event, the topic it
// travels on, and the type of the topics themselves. A topic is built only by `topics`, and the
// bus is typed by it (in the manner of graphql-yoga's createPubSub<Topics>): publishing a typing
// event on a message topic, or reading a member event as a message, does not compile.
//
// Topics per kind, so a subscriber of one kind never pays for another: messages (added, updated)
// on `c:`, typing and read receipts on `a:`, member set changes on `m:` (which every stream of
// the conversation follows, to stop at a removal), memberships and the user's own read positions
// and mutes on the user's `u:`.
import type { ConversationView } from '../db/conversations.js';
import type { SystemEventData } from '../db/schema.js';

/** A user's public fields as they travel. */
export interface UserWire {
  id: string;
  phone: string | null;
  displayName: string;
}

/** A message as it travels: the row with times as ISO strings (JSON has no dates). */
export interface MessageWire {
  conversationId: string;
  seq: number;
  senderId: string;
  body: string | null;
  clientMessageId: string | null;
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
  attachmentCount: number;
  /** The position of the message's newest change (messageUpdated); null for a new message. */
  changeSeq: number | null;
  /** The sender's public fields, so delivering the event looks nothing up. */
  sender: UserWire;
  /** The conversation's member set version when the event was made (see domain/streams/member-sets.ts). */
  memberVersion: number;
  /** Absent in events made before system messages existed: USER. */
  kind?: 'USER' | 'SYSTEM';
  systemEvent?: SystemEventData | null;
  /**
   * Replies and mentions (drizzle/0013), present only when set: the seq of the message this one
   * answers, how many answer it (as of the event: a new reply does not re-announce its parent),
   * and whom it mentions. Absent in events made before them: none, 0, none.
   */
  replyToSeq?: number;
  replyCount?: number;
  mentionUserIds?: string[];
}

export type MessageEvent =
  { type: 'messageAdded'; message: MessageWire } | { type: 'messageUpdated'; message: MessageWire };

export type ActivityEvent =
  | { type: 'typing'; conversationId: string; userId: string; isTyping: boolean; ttlMs: number }
  | {
      type: 'receipt';
      conversationId: string;
      userId: string;
      lastReadSeq: number;
      readAt: string;
    };

/** The member set changed (committed with `version`): what an instance knows of it is stale. */
export interface MembersEvent {
  type: 'members';
  conversationId: string;
  version: number;
  /**
   * The change itself, when small: who joined and who left between `version - 1` and `version`.
   * An instance holding the set at `version - 1` applies it instead of reloading the whole set
   * (a big room's 10,000 ids per join or leave).
   */
  added?: string[];
  removed?: string[];
}

/** Roles or details (title, description, picture, visibility) of a conversation changed. */
export interface ConversationChangedEvent {
  type: 'changed';
  conversationId: string;
  reason: 'ROLES' | 'DETAILS';
  /**
   * The member set version the change was made under (absent in events made before it was
   * recorded): an instance whose set is older reloads it before handing the event on, so a
   * member removed before the change never hears of it.
   */
  memberVersion?: number;
}

export type ConversationUpdateReason =
  'READ' | 'MEMBERS' | 'ROLES' | 'DETAILS' | 'MUTE' | 'JOINED' | 'REMOVED';

/** What a conversationUpdated subscriber is handed: which conversation, why, and how it looks now. */
export interface ConversationUpdatePayload {
  conversationId: string;
  reason: ConversationUpdateReason;
  /**
   * The conversation as the subscriber sees it, read when the update was handed on (after the
   * change); for REMOVED, as someone outside it sees it.
   */
  conversation: ConversationView;
}

/** Memberships of the user: durable (through the outbox). */
export type MembershipEvent =
  | {
      type: 'joined';
      conversationId: string;
      userId: string;
      /** The conversation's newest message seq and change position when they joined. */
      fromSeq: number;
      fromChangeSeq: number;
    }
  | { type: 'left'; conversationId: string; userId: string };

/**
 * The user's own read position or mute of a conversation changed (on any of their devices).
 * Ephemeral: a client that reconnects refetches its conversations.
 */
export interface UserUpdatedEvent {
  type: 'updated';
  conversationId: string;
  userId: string;
  reason: 'READ' | 'MUTE';
}

export type UserEvent = MembershipEvent | UserUpdatedEvent;

export type PresenceStatus = 'ONLINE' | 'OFFLINE';

/** Published once when a user goes ONLINE or OFFLINE. */
export interface PresenceEvent {
  type: 'presence';
  userId: string;
  status: PresenceStatus;
  lastSeenAt: string | null;
  /** Grows with every change of this user's status: older changes arriving late are dropped. */
  version: number;
}

/** Every topic kind and the events it carries. */
export interface Topics {
  messages: MessageEvent;
  activity: ActivityEvent;
  members: MembersEvent | ConversationChangedEvent;
  user: UserEvent;
  presence: PresenceEvent;
}

export type TopicKind = keyof Topics;

/** A topic name that carries events of kind K (made only by `topics`). */
export type Topic<K extends TopicKind> = string & { readonly __carries: K };

/** Any event that travels. */
export type BusEvent = Topics[TopicKind];

/** An event of a conversation's own topics. */
export type ConversationEvent =
  MessageEvent | ActivityEvent | MembersEvent | ConversationChangedEvent;

export const topics = {
  messages: (conversationId: string) => `c:${conversationId}` as Topic<'messages'>,
  activity: (conversationId: string) => `a:${conversationId}` as Topic<'activity'>,
  members: (conversationId: string) => `m:${conversationId}` as Topic<'members'>,
  user: (userId: string) => `u:${userId}` as Topic<'user'>,
  /**
   * Every presence change, published once: each instance hands it to those of its local
   * subscribers who are the user's contacts. (One publish per contact instead would cost a user
   * in a 2,000-member group 2,000 publishes per connect, listened to or not.)
   */
  presence: 'presence' as Topic<'presence'>,
} as const;

export interface PresencePayload {
  userId: string;
  status: PresenceStatus;
  lastSeenAt: Date | null;
}

export interface TypingPayload {
  conversationId: string;
  userId: string;
  isTyping: boolean;
}

export interface ReceiptPayload {
  conversationId: string;
  userId: string;
  lastReadSeq: number;
  readAt: Date;
}
