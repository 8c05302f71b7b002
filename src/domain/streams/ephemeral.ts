// typingChanged and readReceiptUpdated: events nobody stores. Typing expires on the listening
// side, so an indicator whose renewals stop (tab closed, instance gone) turns off by itself.
import { hasBlocked } from '../../db/blocks.js';
import type { ReceiptPayload, TypingPayload } from '../../realtime/events.js';
import type { Session } from '../context.js';
import { conversationNotFound } from '../errors.js';
import { isUuid } from '../ids.js';
import { isMember, openChannelFeed, openWhenDatabaseBack } from './conversation-feed.js';

const BLOCK_RECHECK_MS = 60_000;

async function requireMember(session: Session, conversationId: string) {
  if (!isUuid(conversationId) || !(await isMember(session, conversationId))) {
    throw conversationNotFound();
  }
}

/** Waits while the database is away (see openWhenDatabaseBack). */
export const subscribeTyping = (
  session: Session,
  conversationId: string,
): Promise<AsyncIterableIterator<TypingPayload>> =>
  openWhenDatabaseBack(session, () => openTyping(session, conversationId));

async function openTyping(
  session: Session,
  conversationId: string,
): Promise<AsyncIterableIterator<TypingPayload>> {
  await requireMember(session, conversationId);
  const typing = new Map<string, NodeJS.Timeout>();
  // Whether a typer blocked this subscriber (who then sees none of their typing), asked once a
  // minute per typer rather than per event.
  const blockedMe = new Map<string, { value: Promise<boolean>; at: number }>();
  const hasBlockedMe = (userId: string): Promise<boolean> => {
    const known = blockedMe.get(userId);
    if (known && Date.now() - known.at < BLOCK_RECHECK_MS) return known.value;
    const value = hasBlocked(session.deps.db, userId, session.userId).catch(() => false);
    blockedMe.set(userId, { value, at: Date.now() });
    return value;
  };
  return openChannelFeed<TypingPayload>(
    session,
    { conversationId, start: { seq: null, changeSeq: null } },
    (channel) => {
      const stop = (userId: string) => {
        const timer = typing.get(userId);
        if (!timer) return;
        clearTimeout(timer);
        typing.delete(userId);
        channel.push({ conversationId, userId, isTyping: false });
      };
      return {
        async onEvent(event) {
          if (event.type !== 'typing' || event.userId === session.userId) return;
          if (!event.isTyping) return stop(event.userId);
          if (await hasBlockedMe(event.userId)) return;
          const wasTyping = typing.has(event.userId);
          clearTimeout(typing.get(event.userId));
          const timer = setTimeout(() => stop(event.userId), event.ttlMs);
          timer.unref();
          typing.set(event.userId, timer);
          if (!wasTyping) channel.push({ conversationId, userId: event.userId, isTyping: true });
        },
      };
    },
    {
      onClose: () => {
        for (const timer of typing.values()) clearTimeout(timer);
        typing.clear();
      },
      // Typing is shed first when a client falls behind.
      buffer: { maxBuffer: 100, overflow: 'drop-oldest' },
      kind: 'activity',
    },
  );
}

/** Waits while the database is away (see openWhenDatabaseBack). */
export const subscribeReceipts = (
  session: Session,
  conversationId: string,
): Promise<AsyncIterableIterator<ReceiptPayload>> =>
  openWhenDatabaseBack(session, () => openReceipts(session, conversationId));

async function openReceipts(
  session: Session,
  conversationId: string,
): Promise<AsyncIterableIterator<ReceiptPayload>> {
  await requireMember(session, conversationId);
  return openChannelFeed<ReceiptPayload>(
    session,
    { conversationId, start: { seq: null, changeSeq: null } },
    (channel) => ({
      async onEvent(event) {
        if (event.type !== 'receipt') return;
        channel.push({
          conversationId: event.conversationId,
          userId: event.userId,
          lastReadSeq: event.lastReadSeq,
          readAt: new Date(event.readAt),
        });
      },
    }),
    { buffer: { maxBuffer: 100, overflow: 'drop-oldest' }, kind: 'activity' },
  );
}
