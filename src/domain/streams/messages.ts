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
import type { MessageWire } from '../../realtime/events.js';
import { isUuid } from '../ids.js';
import { limits } from '../limits.js';
import {
  isMember,
  openChannelFeed,
  openWhenDatabaseBack,
  whileDatabaseAway,
} from './conversation-feed.js';

/** How long a live message that came ahead of an earlier one waits for it (see fillGapLater). */
const REORDER_WAIT_MS = 100;

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

/** Waits while the database is away (see openWhenDatabaseBack). */
export const subscribeMessageAdded = (
  session: Session,
  args: { conversationId?: string | null; after?: string | null },
): Promise<AsyncIterableIterator<MessageRow>> =>
  openWhenDatabaseBack(session, () => openMessageAdded(session, args));

async function openMessageAdded(
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
  /** Live messages that came ahead of an earlier one, per conversation, by seq. */
  const early = new Map<string, Map<number, MessageWire>>();
  const gapTimers = new Map<string, NodeJS.Timeout>();

  return openChannelFeed<MessageRow>(
    session,
    conversationId ? { conversationId, fromSeq: afterSeq } : { all: true },
    (channel) => {
      /** Hands on the next message of its conversation (never one past a gap, never twice). */
      const emit = (m: MessageRow) => {
        const seen = last.get(m.conversationId);
        if (seen === undefined || m.seq !== seen + 1) return;
        last.set(m.conversationId, m.seq);
        if (m.senderId !== session.userId) {
          deliveries.record(m.conversationId, session.userId, m.seq);
        }
        channel.push(m);
      };

      const emitLive = (m: MessageWire) => {
        session.deps.observeDeliveryLag(Date.now() - Date.parse(m.createdAt));
        emit(fromWire(m));
      };

      /** Hands on the early messages that now follow, and forgets those already handed on. */
      const releaseEarly = (id: string) => {
        const waiting = early.get(id);
        if (!waiting) return;
        for (let next = (last.get(id) ?? 0) + 1; waiting.has(next); next++) {
          emitLive(waiting.get(next)!);
          waiting.delete(next);
        }
        const seen = last.get(id) ?? Number.MAX_SAFE_INTEGER;
        for (const seq of waiting.keys()) if (seq <= seen) waiting.delete(seq);
        if (waiting.size === 0) {
          early.delete(id);
          clearTimeout(gapTimers.get(id));
          gapTimers.delete(id);
        }
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

      // Two instances publishing into one conversation deliver its messages slightly out of
      // order. A message ahead of a gap waits briefly for the missing ones to arrive live; only
      // a gap that lasts (a publish that failed, a missed event) is filled from the database.
      const fillGapLater = (id: string) => {
        if (gapTimers.has(id)) return;
        const timer = setTimeout(() => {
          gapTimers.delete(id);
          const waiting = early.get(id);
          if (!waiting || channel.closed) return;
          let newest = 0;
          for (const seq of waiting.keys()) newest = Math.max(newest, seq);
          // While the database is away (a restart) the stream waits, then fills the gap.
          whileDatabaseAway(() => catchUp(id, newest - 1), { stopped: () => channel.closed })
            .then(() => {
              releaseEarly(id);
              if (early.has(id)) fillGapLater(id);
            })
            .catch((err: unknown) => channel.fail(err));
        }, REORDER_WAIT_MS);
        timer.unref();
        gapTimers.set(id, timer);
      };

      const forget = (id: string) => {
        last.delete(id);
        early.delete(id);
        clearTimeout(gapTimers.get(id));
        gapTimers.delete(id);
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
          releaseEarly(id);
        },
        onUnfollow: forget,
        async onEvent(event) {
          if (event.type !== 'messageAdded') return;
          const m = event.message;
          const seen = last.get(m.conversationId);
          if (seen === undefined || m.seq <= seen) return;
          if (m.seq > seen + 1) {
            let waiting = early.get(m.conversationId);
            if (!waiting) early.set(m.conversationId, (waiting = new Map()));
            waiting.set(m.seq, m);
            fillGapLater(m.conversationId);
            return;
          }
          emitLive(m);
          releaseEarly(m.conversationId);
        },
        onResync: async (id) => {
          await catchUp(id);
          releaseEarly(id);
        },
      };
    },
    {
      buffer: messageBuffer(session),
      onClose: () => {
        for (const timer of gapTimers.values()) clearTimeout(timer);
        gapTimers.clear();
        early.clear();
      },
    },
  );
}

/** Messages are never shed: a client that falls too far behind is disconnected and resumes. */
const messageBuffer = (session: Session) => ({
  maxBuffer: 1_000,
  overflow: session.closeSlowConsumer ?? ('fail' as const),
});

/** Waits while the database is away (see openWhenDatabaseBack). */
export const subscribeMessageUpdated = (
  session: Session,
  args: { conversationId?: string | null },
): Promise<AsyncIterableIterator<MessageRow>> =>
  openWhenDatabaseBack(session, () => openMessageUpdated(session, args));

async function openMessageUpdated(
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
