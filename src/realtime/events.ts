// What travels between instances. Every event of a conversation goes to that conversation's
// topic; membership changes go to the member's own topic, so a "all my conversations" stream
// learns about conversations it must start listening to.

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
  attachmentCount?: number;
  /** New messages: the sender as they were when it was sent (absent in older outbox rows). */
  sender?: { id: string; phone: string; displayName: string };
  /** New messages: the conversation's member set version when it was sent. */
  memberVersion?: number;
}

export type ConversationEvent =
  | { type: 'messageAdded'; message: MessageWire }
  /** The member set changed (committed with `version`): what an instance knows of it is stale. */
  | { type: 'members'; conversationId: string; version: number }
  | { type: 'messageUpdated'; message: MessageWire }
  | { type: 'typing'; conversationId: string; userId: string; isTyping: boolean; ttlMs: number }
  | {
      type: 'receipt';
      conversationId: string;
      userId: string;
      lastReadSeq: number;
      readAt: string;
    };

export type UserEvent =
  | { type: 'joined'; conversationId: string; userId: string; fromSeq: number }
  | { type: 'left'; conversationId: string; userId: string };

export type PresenceStatus = 'ONLINE' | 'OFFLINE';

/** Published once (to PRESENCE_TOPIC) when a user goes ONLINE or OFFLINE. */
export interface PresenceEvent {
  type: 'presence';
  userId: string;
  status: PresenceStatus;
  lastSeenAt: string | null;
  /** Grows with every change of this user's status: older changes arriving late are dropped. */
  version: number;
}

export type BusEvent = ConversationEvent | UserEvent | PresenceEvent;

// Topics per kind, so a subscriber of one kind never pays for another: messages (added,
// updated) on `c:`, typing and read receipts on `a:`, member set changes on `m:` (which every
// stream of the conversation follows, to stop at a removal), memberships on the user's `u:`.
export const conversationTopic = (conversationId: string): string => `c:${conversationId}`;
export const activityTopic = (conversationId: string): string => `a:${conversationId}`;
export const membersTopic = (conversationId: string): string => `m:${conversationId}`;
export const userTopic = (userId: string): string => `u:${userId}`;
/**
 * Every presence change, published once: each instance hands it to those of its local
 * subscribers who are the user's contacts. (One publish per contact instead would cost a user
 * in a 2,000-member group 2,000 publishes per connect, listened to or not.)
 */
export const PRESENCE_TOPIC = 'presence';

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
