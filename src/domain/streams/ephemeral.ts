// typingChanged and readReceiptUpdated: events nobody stores. Typing expires on the listening
// side, so an indicator whose renewals stop (tab closed, instance gone) turns off by itself.
import { Channel } from '../../realtime/channel.js';
import type { ReceiptPayload, TypingPayload } from '../../realtime/events.js';
import type { Session } from '../context.js';
import { conversationNotFound } from '../errors.js';
import { isUuid } from '../ids.js';
import { isMember, openFeed, type Feed } from './conversation-feed.js';

async function requireMember(session: Session, conversationId: string) {
  if (!isUuid(conversationId) || !(await isMember(session, conversationId))) {
    throw conversationNotFound();
  }
}

export async function subscribeTyping(
  session: Session,
  conversationId: string,
): Promise<AsyncIterableIterator<TypingPayload>> {
  await requireMember(session, conversationId);
  const typing = new Map<string, NodeJS.Timeout>();
  let feed: Feed | undefined;
  const channel = new Channel<TypingPayload>(() => {
    feed?.close();
    for (const timer of typing.values()) clearTimeout(timer);
    typing.clear();
  });
  const stop = (userId: string) => {
    const timer = typing.get(userId);
    if (!timer) return;
    clearTimeout(timer);
    typing.delete(userId);
    channel.push({ conversationId, userId, isTyping: false });
  };
  feed = await openFeed(
    session,
    { conversationId, fromSeq: async () => 0 },
    {
      onFollow: async () => {},
      onUnfollow: () => {},
      async onEvent(event) {
        if (event.type !== 'typing' || event.userId === session.userId) return;
        if (!event.isTyping) return stop(event.userId);
        const wasTyping = typing.has(event.userId);
        clearTimeout(typing.get(event.userId));
        const timer = setTimeout(() => stop(event.userId), event.ttlMs);
        timer.unref();
        typing.set(event.userId, timer);
        if (!wasTyping) channel.push({ conversationId, userId: event.userId, isTyping: true });
      },
      onResync: async () => {},
      onRemoved: () => channel.fail(conversationNotFound()),
      onError: (err) => channel.fail(err),
    },
  );
  if (channel.closed) feed.close();
  return channel;
}

export async function subscribeReceipts(
  session: Session,
  conversationId: string,
): Promise<AsyncIterableIterator<ReceiptPayload>> {
  await requireMember(session, conversationId);
  let feed: Feed | undefined;
  const channel = new Channel<ReceiptPayload>(() => feed?.close());
  feed = await openFeed(
    session,
    { conversationId, fromSeq: async () => 0 },
    {
      onFollow: async () => {},
      onUnfollow: () => {},
      async onEvent(event) {
        if (event.type !== 'receipt') return;
        channel.push({
          conversationId: event.conversationId,
          userId: event.userId,
          lastReadSeq: event.lastReadSeq,
          readAt: new Date(event.readAt),
        });
      },
      onResync: async () => {},
      onRemoved: () => channel.fail(conversationNotFound()),
      onError: (err) => channel.fail(err),
    },
  );
  if (channel.closed) feed.close();
  return channel;
}
