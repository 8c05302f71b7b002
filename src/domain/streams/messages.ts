// messageAdded and messageUpdated: one algorithm over two sequences. New messages are numbered by
// seq, changes (edits, deletes) by change position; both are gap-free and in commit order per
// conversation. Each stream hands events on strictly in that order per conversation, each once:
// duplicates (an event published twice, a replayed one arriving live too) are dropped by
// position, and a jump is filled from the database (after a short wait for late arrivals).
//
// Every item handed on knows where the stream stood after it (`streamCursor`), so a client
// resumes with `after` from the last event it got, with or without `conversationId`.
import { randomUUID } from 'node:crypto';
import { positionsOf, type MemberConversation } from '../../db/conversations.js';
import { listChangedMessages, listMessages, type MessageWithSender } from '../../db/messages.js';
import type { LiveMessageRow, MessageRow } from '../../db/schema.js';
import { findStreamBase, insertStreamBase } from '../../db/stream-bases.js';
import type { MessageWire } from '../../realtime/events.js';
import type { Session } from '../context.js';
import { decodeMessageCursor, encodeMessageCursor } from '../cursor.js';
import { badInput, conversationNotFound, DomainError } from '../errors.js';
import { fromWire } from '../events.js';
import { isUuid } from '../ids.js';
import { limits } from '../limits.js';
import {
  isMember,
  openChannelFeed,
  openWhenDatabaseBack,
  whileDatabaseAway,
  type FeedScope,
  type Known,
  type Start,
} from './conversation-feed.js';
import {
  decodeStreamCursor,
  encodeStreamCursor,
  StreamPositions,
  type StreamKind,
} from './stream-cursor.js';

/** How long a live event that came ahead of an earlier one waits for it (see fillGapLater). */
const REORDER_WAIT_MS = 100;

const resyncRequired = (why = `More than ${limits.maxReplay} events to replay`) =>
  new DomainError(
    'RESYNC_REQUIRED',
    `${why}: page through them with "messages", then subscribe again with the newest cursor.`,
  );

/** What a message stream hands on: the message, and where the stream stands after it. */
export type StreamItem = LiveMessageRow & { readonly streamCursor?: string | null };

/** One of the two sequences a message stream follows. */
interface Sequence {
  readonly kind: StreamKind;
  readonly eventType: 'messageAdded' | 'messageUpdated';
  /** The position of a message in this sequence (null: an event from before positions). */
  positionOf(m: Pick<MessageRow, 'seq' | 'changeSeq'>): number | null;
  startOf(start: Start): number | null;
  newestOf(known: Known): number;
  read(session: Session, conversationId: string, after: number): Promise<MessageWithSender[]>;
  /** The cursor of a one-conversation stream after `m` (the same for every subscriber). */
  cursorAt(m: MessageRow): string;
  /** The position an `after` names in a one-conversation stream. */
  decodeOne(after: string, conversationId: string): number;
  /** Where a member starts in a conversation that a resumed cursor does not know yet. */
  joinedAt(c: MemberConversation): Start;
}

const PAGE = 100;

const ADDED: Sequence = {
  kind: 'added',
  eventType: 'messageAdded',
  positionOf: (m) => m.seq,
  startOf: (s) => s.seq,
  newestOf: (k) => k.lastSeq,
  read: (session, id, after) =>
    listMessages(session.deps.db, id, {
      direction: 'forward',
      limit: PAGE,
      afterSeq: after,
      beforeSeq: null,
    }),
  cursorAt: (m) => encodeMessageCursor(m.seq),
  decodeOne: (after) => decodeMessageCursor(after, 'after'),
  joinedAt: (c) => ({ seq: c.joinedSeq, changeSeq: null }),
};

const UPDATED: Sequence = {
  kind: 'updated',
  eventType: 'messageUpdated',
  positionOf: (m) => m.changeSeq,
  startOf: (s) => s.changeSeq,
  newestOf: (k) => k.lastChangeSeq,
  read: (session, id, after) => listChangedMessages(session.deps.db, id, after, PAGE),
  cursorAt: (m) =>
    encodeStreamCursor({
      kind: 'updated',
      baseId: null,
      positions: new Map([[m.conversationId, m.changeSeq ?? 0]]),
    }),
  decodeOne(after, conversationId) {
    const cursor = decodeStreamCursor(after);
    const position = cursor.positions.get(conversationId);
    if (cursor.kind !== 'updated' || cursor.baseId !== null || position === undefined) {
      throw badInput(
        '"after" is not a streamCursor of messageUpdated for this conversation.',
        'after',
      );
    }
    return position;
  },
  joinedAt: (c) => ({ seq: null, changeSeq: c.joinedChangeSeq }),
};

async function checkScope(session: Session, conversationId: string | null | undefined) {
  if (conversationId === null || conversationId === undefined) return null;
  if (!isUuid(conversationId) || !(await isMember(session, conversationId))) {
    throw conversationNotFound();
  }
  return conversationId;
}

export interface StreamArgs {
  conversationId?: string | null;
  after?: string | null;
}

export interface StreamOptions {
  /** The selection asks for `streamCursor` (an all-conversations stream then saves a base). */
  wantsCursor?: boolean;
}

/** Waits while the database is away (see openWhenDatabaseBack). */
export const subscribeMessageAdded = (
  session: Session,
  args: StreamArgs,
  opts: StreamOptions = {},
): Promise<AsyncIterableIterator<StreamItem>> =>
  openWhenDatabaseBack(session, () => openMessageStream(session, ADDED, args, opts));

/** Waits while the database is away (see openWhenDatabaseBack). */
export const subscribeMessageUpdated = (
  session: Session,
  args: StreamArgs,
  opts: StreamOptions = {},
): Promise<AsyncIterableIterator<StreamItem>> =>
  openWhenDatabaseBack(session, () => openMessageStream(session, UPDATED, args, opts));

// One copy per event and sequence carries the one-conversation cursor, shared by every local
// subscriber (so graphql/shared-execution.ts still executes the event once for all of them).
const withOneCursor = {
  added: new WeakMap<MessageRow, StreamItem>(),
  updated: new WeakMap<MessageRow, StreamItem>(),
};

function oneConversationItem(seq: Sequence, m: LiveMessageRow): StreamItem {
  const cache = withOneCursor[seq.kind];
  let item = cache.get(m);
  if (!item) cache.set(m, (item = Object.freeze({ ...m, streamCursor: seq.cursorAt(m) })));
  return item;
}

async function openMessageStream(
  session: Session,
  seq: Sequence,
  args: StreamArgs,
  opts: StreamOptions,
): Promise<AsyncIterableIterator<StreamItem>> {
  const { db, deliveries } = session.deps;
  const conversationId = await checkScope(session, args.conversationId);
  const after = args.after ?? null;

  const saveBase = async (positions: ReadonlyMap<string, number>) => {
    const id = randomUUID();
    await insertStreamBase(db, { id, userId: session.userId, positions });
    return id;
  };

  let scope: FeedScope;
  /** Where an all-conversations stream stands, when its cursor is asked for or resumed from. */
  let positions: StreamPositions | null = null;
  if (conversationId) {
    const from = after === null ? null : seq.decodeOne(after, conversationId);
    scope = {
      conversationId,
      start: seq.kind === 'added' ? { seq: from, changeSeq: null } : { seq: null, changeSeq: from },
    };
  } else if (after !== null) {
    const cursor = decodeStreamCursor(after);
    if (cursor.kind !== seq.kind || cursor.baseId === null) {
      throw badInput(
        `"after" is not a streamCursor of ${seq.eventType} across all conversations.`,
        'after',
      );
    }
    const base = await findStreamBase(db, cursor.baseId, session.userId);
    if (!base) throw resyncRequired('This stream cursor has expired');
    const resumed = new StreamPositions(seq.kind, cursor.baseId, base, saveBase, cursor.positions);
    positions = resumed;
    scope = {
      all: true,
      startOf(c) {
        const position = resumed.get(c.conversationId);
        if (position === undefined) return seq.joinedAt(c);
        return seq.kind === 'added'
          ? { seq: position, changeSeq: null }
          : { seq: null, changeSeq: position };
      },
    };
  } else {
    scope = { all: true };
  }
  const all = 'all' in scope;

  /** The newest position handed on, per followed conversation. */
  const last = new Map<string, number>();
  /**
   * Where each conversation started, until every one has (then null): the base of a new
   * all-conversations stream. While it is set, a resume replays at most limits.maxReplay in all.
   */
  let started: Map<string, number> | null = new Map();
  /** Live events that came ahead of an earlier one, per conversation, by position. */
  const early = new Map<string, Map<number, MessageWire>>();
  const gapTimers = new Map<string, NodeJS.Timeout>();
  let replayedAtStart = 0;

  return openChannelFeed<StreamItem>(
    session,
    scope,
    (channel) => {
      const push = (m: LiveMessageRow) => {
        if (!all) channel.push(oneConversationItem(seq, m));
        else if (positions) channel.push({ ...m, streamCursor: positions.cursor() });
        else channel.push(m);
      };

      /** Hands on a message past the last position of its conversation (never one twice). */
      const emit = (m: LiveMessageRow) => {
        const id = m.conversationId;
        const seen = last.get(id);
        const position = seq.positionOf(m);
        if (seen === undefined || position === null || position <= seen) return;
        last.set(id, position);
        positions?.set(id, position);
        push(m);
      };

      const emitLive = (m: MessageWire) => {
        // The row is converted once per event for every local subscriber: its time is parsed.
        const row = fromWire(m);
        if (seq.kind === 'added') {
          session.deps.observeDeliveryLag(Date.now() - row.createdAt.getTime());
        }
        emit(row);
      };

      /** Hands on the early events that now follow, and forgets those already handed on. */
      const releaseEarly = (id: string) => {
        const waiting = early.get(id);
        if (!waiting) return;
        for (let next = (last.get(id) ?? 0) + 1; waiting.has(next); next++) {
          emitLive(waiting.get(next)!);
          waiting.delete(next);
        }
        const seen = last.get(id) ?? Number.MAX_SAFE_INTEGER;
        for (const position of waiting.keys()) if (position <= seen) waiting.delete(position);
        if (waiting.size === 0) {
          early.delete(id);
          clearTimeout(gapTimers.get(id));
          gapTimers.delete(id);
        }
      };

      /** Hands on what the database has after the last position handed on. */
      const catchUp = async (id: string) => {
        let replayed = 0;
        for (;;) {
          const from = last.get(id);
          if (from === undefined || channel.closed) return;
          const rows = await seq.read(session, id, from);
          replayed += rows.length;
          if (started) replayedAtStart += rows.length;
          if (replayed > limits.maxReplay || replayedAtStart > limits.maxReplay) {
            throw resyncRequired();
          }
          rows.forEach(emit);
          if (rows.length < PAGE) return;
        }
      };

      // Two instances publishing into one conversation deliver its events slightly out of
      // order. An event ahead of a gap waits briefly for the missing ones to arrive live; only
      // a gap that lasts (a publish that failed, a missed event) is filled from the database.
      const fillGapLater = (id: string) => {
        if (gapTimers.has(id)) return;
        const timer = setTimeout(() => {
          gapTimers.delete(id);
          if (!early.has(id) || channel.closed) return;
          // While the database is away (a restart) the stream waits, then fills the gap.
          whileDatabaseAway(() => catchUp(id), { stopped: () => channel.closed })
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
        async onFollow(id, start, known) {
          if (last.has(id)) return;
          const newest = seq.newestOf(known ?? (await positionsOf(db, id)));
          const from = seq.startOf(start) ?? newest;
          if (from > newest) {
            throw badInput('"after" is beyond the newest event of this conversation.', 'after');
          }
          if (from < newest - limits.maxReplay) throw resyncRequired();
          last.set(id, from);
          started?.set(id, from);
          positions?.set(id, from);
          // Anything newer than `newest` arrives as an event (the feed subscribed first).
          if (from < newest) await catchUp(id);
          releaseEarly(id);
          if (!all) started = null;
        },
        async onStarted() {
          // A new stream whose cursor is asked for saves where it starts, before any event.
          const base = started ?? new Map<string, number>();
          started = null; // it becomes the base, or is not needed
          if (!positions && opts.wantsCursor) {
            positions = new StreamPositions(seq.kind, await saveBase(base), base, saveBase);
          }
        },
        onUnfollow: forget,
        onEvent(event) {
          if (event.type !== seq.eventType) return;
          const m = event.message;
          const id = m.conversationId;
          const seen = last.get(id);
          const position = seq.positionOf(m);
          if (seen === undefined) return;
          // An event written before change positions existed: handed on as it comes.
          if (position === null) return push(fromWire(m));
          if (position <= seen) return;
          if (position > seen + 1) {
            let waiting = early.get(id);
            if (!waiting) early.set(id, (waiting = new Map()));
            waiting.set(position, m);
            fillGapLater(id);
            return;
          }
          emitLive(m);
          releaseEarly(id);
        },
        onResync: async (id) => {
          await catchUp(id);
          releaseEarly(id);
        },
      };
    },
    {
      buffer: {
        ...messageBuffer(session),
        // Delivered once it leaves for the socket: one still waiting when a slow client is
        // disconnected was not delivered (and may be pushed).
        onTaken:
          seq.kind === 'added'
            ? (m: StreamItem) => {
                if (m.senderId !== session.userId) {
                  deliveries.record(m.conversationId, session.userId, m.seq);
                }
              }
            : undefined,
      },
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
