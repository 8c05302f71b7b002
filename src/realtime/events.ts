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
}

export type ConversationEvent =
  | { type: 'messageAdded'; message: MessageWire }
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

export type BusEvent = ConversationEvent | UserEvent;

export const conversationTopic = (conversationId: string): string => `parley:c:${conversationId}`;
export const userTopic = (userId: string): string => `parley:u:${userId}`;

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
