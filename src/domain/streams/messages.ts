// messageAdded and messageUpdated. New messages are handed on strictly in seq order per
// conversation, each exactly once: duplicates (an event published twice, a replayed message
// arriving live too) are dropped by seq, and a jump in seq is filled from the database first.
import { lastSeqOf } from '../../db/conversations.js';
import { listMessages } from '../../db/messages.js';
import type { MessageRow } from '../../db/schema.js';
import type { Session } from '../context.js';
import { decodeMessageCursor } from '../cursor.js';
import { badInput, conversationNotFound, DomainError } from '../errors.js';
import { fromWire } from '../events.js';
import { isUuid } from '../ids.js';
import { limits } from '../limits.js';
import { isMember, openChannelFeed } from './conversation-feed.js';

const resyncRequired = () =>
  new DomainError(
    'RESYNC_REQUIRED',
    `More than ${limits.maxReplay} messages to replay: page through them with "messages", then subscribe again with the newest cursor.`,
  );

async function checkScope(session: Session, conversationId: string | null | undefined) {
  if (conversationId === null || conversationId === undefined) return null;
  if (!isUuid(conversationId) || !(await isMember(session, conversationId))) {
    throw conversationNotFound();
  }
  return conversationId;
}

export async function subscribeMessageAdded(
  session: Session,
  args: { conversationId?: string | null; after?: string | null },
): Promise<AsyncIterableIterator<MessageRow>> {
  const hasAfter = args.after !== null && args.after !== undefined;
  if (hasAfter && !args.conversationId) {
    throw badInput('"after" resumes one conversation: give its conversationId too.', 'after');
  }
  const afterSeq = hasAfter ? decodeMessageCursor(args.after!, 'after') : null;
  const conversationId = await checkScope(session, args.conversationId);
  const { db, deliveries } = session.deps;

  /** The newest seq handed on, per followed conversation. */
  const last = new Map<string, number>();

  return openChannelFeed<MessageRow>(
    session,
    conversationId ? { conversationId, fromSeq: afterSeq } : { all: true },
    (channel) => {
      const emit = (m: MessageRow) => {
        const seen = last.get(m.conversationId);
        if (seen === undefined || m.seq <= seen) return;
        last.set(m.conversationId, m.seq);
        if (m.senderId !== session.userId) {
          deliveries.record(m.conversationId, session.userId, m.seq);
        }
        channel.push(m);
      };

      /** Hands on what the database has after the last seq handed on (up to `upTo`). */
      const catchUp = async (id: string, upTo: number | null = null) => {
        let replayed = 0;
        for (;;) {
          const from = last.get(id);
          if (from === undefined || channel.closed) return;
          const rows = await listMessages(db, id, {
            direction: 'forward',
            limit: 100,
            afterSeq: from,
            beforeSeq: upTo === null ? null : upTo + 1,
          });
          replayed += rows.length;
          if (replayed > limits.maxReplay) throw resyncRequired();
          rows.forEach(emit);
          if (rows.length < 100) return;
        }
      };

      return {
        async onFollow(id, fromSeq, known) {
          if (last.has(id)) return;
          const newest = known ?? (await lastSeqOf(db, id));
          const from = fromSeq ?? newest;
          if (from > newest) {
            throw badInput('"after" is beyond the newest message of this conversation.', 'after');
          }
          if (from < newest - limits.maxReplay) throw resyncRequired();
          last.set(id, from);
          // Anything newer than `newest` arrives as an event (the feed subscribed first).
          if (from < newest) await catchUp(id);
        },
        onUnfollow: (id) => last.delete(id),
        async onEvent(event) {
          if (event.type !== 'messageAdded') return;
          const m = event.message;
          const seen = last.get(m.conversationId);
          if (seen === undefined || m.seq <= seen) return;
          if (m.seq > seen + 1) await catchUp(m.conversationId, m.seq - 1);
          session.deps.observeDeliveryLag(Date.now() - Date.parse(m.createdAt));
          emit(fromWire(m));
        },
        onResync: (id) => catchUp(id),
      };
    },
    { buffer: messageBuffer(session) },
  );
}

/** Messages are never shed: a client that falls too far behind is disconnected and resumes. */
const messageBuffer = (session: Session) => ({
  maxBuffer: 1_000,
  overflow: session.closeSlowConsumer ?? ('fail' as const),
});

export async function subscribeMessageUpdated(
  session: Session,
  args: { conversationId?: string | null },
): Promise<AsyncIterableIterator<MessageRow>> {
  const conversationId = await checkScope(session, args.conversationId);
  // An update published twice is handed on once: remember recent versions.
  const recent = new Set<string>();
  return openChannelFeed<MessageRow>(
    session,
    conversationId ? { conversationId, fromSeq: null } : { all: true },
    (channel) => ({
      async onEvent(event) {
        if (event.type !== 'messageUpdated') return;
        const m = event.message;
        const version = `${m.conversationId}:${m.seq}:${m.editedAt}:${m.deletedAt}`;
        if (recent.has(version)) return;
        recent.add(version);
        if (recent.size > 1_000) recent.delete(recent.values().next().value!);
        channel.push(fromWire(m));
      },
    }),
    { buffer: messageBuffer(session) },
  );
}
