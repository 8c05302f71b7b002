// Listening to the conversations of one user: a single conversation, or all of them, including
// conversations joined while listening (announced on the user's own topic). Each event is
// handed on only while the user is a member, checked when it is delivered.
import { isDatabaseUnavailable } from '../../db/client.js';
import { findMemberConversations, type MemberConversation } from '../../db/conversations.js';
import type { Unsubscribe } from '../../realtime/bus.js';
import { Channel, SerialQueue, type ChannelOptions } from '../../realtime/channel.js';
import {
  topics,
  type ActivityEvent,
  type ConversationEvent,
  type MessageEvent,
  type UserEvent,
} from '../../realtime/events.js';
import type { Session } from '../context.js';
import { conversationNotFound } from '../errors.js';

/**
 * Where a listener starts in a conversation: after this message seq, after this change position
 * (null: now). Each kind of stream reads the one it follows.
 */
export interface Start {
  seq: number | null;
  changeSeq: number | null;
}

/** A conversation's newest positions, when the feed has just read them. */
export type Known = Pick<MemberConversation, 'lastSeq' | 'lastChangeSeq'>;

export interface FeedHandlers {
  /** A conversation starts being followed, from `start`. */
  onFollow(conversationId: string, start: Start, known?: Known): Promise<void>;
  /** Every conversation followed at the start has been (all-conversation feeds). */
  onStarted(): Promise<void>;
  onUnfollow(conversationId: string): void;
  /** An event of a followed conversation, the user being a member when it is handled. */
  onEvent(event: ConversationEvent): void | Promise<void>;
  /** The broker reconnected: events may have been missed; catch up from the database. */
  onResync(conversationId: string): Promise<void>;
  /** The user is no longer a member of a conversation followed alone. */
  onRemoved(conversationId: string): void;
  /**
   * An event of the user's own topic (all-conversation feeds), once the feed has followed or
   * unfollowed what it says; an `updated` one only for a conversation being followed.
   */
  onUserEvent?(event: UserEvent): void | Promise<void>;
  onError(err: unknown): void;
}

export interface Feed {
  close(): void;
}

const conversationIdOf = (e: ConversationEvent) =>
  e.type === 'messageAdded' || e.type === 'messageUpdated'
    ? e.message.conversationId
    : e.conversationId;

/** The member set version an event was sent under, when it says. */
const memberVersionOf = (e: ConversationEvent) =>
  e.type === 'messageAdded' || e.type === 'messageUpdated'
    ? e.message.memberVersion
    : e.type === 'changed'
      ? e.memberVersion
      : undefined;

/** How often a stream that needs the database tries again while it is away. */
const STORE_RETRY_MS = 1_000;

/**
 * Runs `task`, and again every STORE_RETRY_MS while it fails because the database is away: a
 * restart is a pause, never the end of a stream. Any other error is thrown, and so is the last
 * one past `deadline` (epoch ms). Undefined once `stopped()` (the stream ended meanwhile).
 */
export async function whileDatabaseAway<T>(
  task: () => Promise<T>,
  opts: { stopped?: () => boolean; deadline?: number } = {},
): Promise<T | undefined> {
  for (;;) {
    try {
      return await task();
    } catch (err) {
      const late = opts.deadline !== undefined && Date.now() > opts.deadline;
      if (!isDatabaseUnavailable(err) || late) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, STORE_RETRY_MS));
    if (opts.stopped?.()) return undefined;
  }
}

/** How long a new subscription waits for the database (a restart) before asking to come back. */
const SUBSCRIBE_WAIT_MS = 15_000;

/**
 * Opens a stream, waiting while the database is away: a subscribe during a restart starts once
 * it is back. After SUBSCRIBE_WAIT_MS the connection is closed with 1013 "try again later",
 * which clients retry (and resume from their cursor).
 */
export async function openWhenDatabaseBack<T>(
  session: Session,
  open: () => Promise<T>,
): Promise<T> {
  try {
    return (await whileDatabaseAway(open, { deadline: Date.now() + SUBSCRIBE_WAIT_MS })) as T;
  } catch (err) {
    if (isDatabaseUnavailable(err)) {
      session.closeToRetry?.('The database is unavailable: reconnect and resume later.');
    }
    throw err;
  }
}

export async function isMember(session: Session, conversationId: string): Promise<boolean> {
  return session.deps.membership.load({ conversationId, userId: session.userId });
}

/**
 * Follows one conversation (`conversationId`) or all of the user's. Subscribes before reading
 * anything, so every event after the start position reaches a handler.
 */
/**
 * Which events of a conversation a feed listens to besides its member set changes: its messages,
 * typing and receipts, or nothing more ('updates': member, role and detail changes only).
 */
export type FeedKind = 'messages' | 'activity' | 'updates';

/** One conversation from a start, or all of the user's (from where `startOf` says; else now). */
export type FeedScope =
  | { conversationId: string; start: Start }
  | { all: true; startOf?: (c: MemberConversation) => Start };

export async function openFeed(
  session: Session,
  scope: FeedScope,
  handlers: FeedHandlers,
  kind: FeedKind = 'messages',
): Promise<Feed> {
  const { bus } = session.deps.events;
  const subscribeKind = (id: string, onEvent: (e: MessageEvent | ActivityEvent) => void) =>
    kind === 'messages'
      ? bus.subscribe(topics.messages(id), onEvent)
      : bus.subscribe(topics.activity(id), onEvent);
  const { memberSets } = session.deps;
  const queue = new SerialQueue(handlers.onError);
  const followed = new Map<string, Unsubscribe | null>();
  const retained = new Map<string, () => void>();
  let closed = false;

  // Authorized per event from the instance's member sets: a lookup, no query, unless the set
  // changed (announced, or older than the event says), when it is reloaded once for everyone.
  const deliver = (id: string, event: ConversationEvent, stillMember: boolean) => {
    if (!stillMember) {
      unfollow(id);
      if (!('all' in scope)) handlers.onRemoved(id);
      return;
    }
    return handlers.onEvent(event);
  };

  // Made once per feed and handed each event (SerialQueue.runWith), not a closure per event:
  // a room's event runs this for each of its local subscribers.
  const handleInTurn = (event: ConversationEvent): void | Promise<void> => {
    const id = conversationIdOf(event);
    if (closed || !followed.has(id)) return;
    const version = memberVersionOf(event);
    const known = memberSets.isMember(id, session.userId, version);
    // The set is known and current: decided now, without a promise (the steady state).
    if (typeof known === 'boolean') return deliver(id, event, known);
    return (async () => {
      // Reloading the member set needs the database: while it is away, the stream waits.
      const stillMember = await whileDatabaseAway(
        async () => memberSets.isMember(id, session.userId, version),
        { stopped: () => closed },
      );
      if (closed || stillMember === undefined) return;
      await deliver(id, event, stillMember);
    })();
  };

  const handleConversationEvent = (event: ConversationEvent) => {
    if (event.type === 'members') memberSets.invalidate(event.conversationId, event.version, event);
    queue.runWith(handleInTurn, event);
  };

  const follow = async (conversationId: string): Promise<void> => {
    if (followed.has(conversationId)) return;
    followed.set(conversationId, null);
    retained.set(conversationId, memberSets.retain(conversationId));
    // Its kind's events, and the member set changes (to stop at a removal).
    const unsubscribes = await Promise.all([
      ...(kind === 'updates' ? [] : [subscribeKind(conversationId, handleConversationEvent)]),
      bus.subscribe(topics.members(conversationId), handleConversationEvent),
    ]);
    const unsubscribe = () => unsubscribes.forEach((u) => u());
    if (closed || !followed.has(conversationId)) unsubscribe();
    else followed.set(conversationId, unsubscribe);
  };

  const unfollow = (conversationId: string) => {
    const unsubscribe = followed.get(conversationId);
    followed.delete(conversationId);
    unsubscribe?.();
    retained.get(conversationId)?.();
    retained.delete(conversationId);
    handlers.onUnfollow(conversationId);
  };

  const cleanups: Unsubscribe[] = [];
  if ('all' in scope) {
    cleanups.push(
      await bus.subscribe(topics.user(session.userId), (event) => {
        queue.run(async () => {
          if (closed) return;
          if (event.type === 'joined' && !followed.has(event.conversationId)) {
            await follow(event.conversationId);
            await handlers.onFollow(event.conversationId, {
              seq: event.fromSeq,
              // Absent in events written before change positions existed: from now.
              changeSeq: event.fromChangeSeq ?? null,
            });
          } else if (event.type === 'left' && followed.has(event.conversationId)) {
            unfollow(event.conversationId);
          } else if (event.type === 'updated' && !followed.has(event.conversationId)) {
            return;
          }
          await handlers.onUserEvent?.(event);
        });
      }),
    );
  }
  const close = () => {
    if (closed) return;
    closed = true;
    for (const unsubscribe of followed.values()) unsubscribe?.();
    followed.clear();
    for (const release of retained.values()) release();
    retained.clear();
    for (const c of cleanups) c();
  };

  // The start runs in the same queue as events, so handlers see onFollow before any event.
  const started = queue.call(async () => {
    if ('all' in scope) {
      const mine = await findMemberConversations(session.deps.db, session.userId);
      await Promise.all(mine.map((c) => follow(c.conversationId)));
      // Read after subscribing: whatever is newer than this arrives as an event.
      const now = await findMemberConversations(session.deps.db, session.userId);
      for (const c of now) {
        await follow(c.conversationId);
        const start = scope.startOf?.(c) ?? { seq: c.lastSeq, changeSeq: c.lastChangeSeq };
        await handlers.onFollow(c.conversationId, start, c);
      }
      await handlers.onStarted();
    } else {
      await follow(scope.conversationId);
      await handlers.onFollow(scope.conversationId, scope.start);
    }
  });
  try {
    await started;
  } catch (err) {
    close();
    throw err;
  }

  cleanups.push(
    bus.onReconnect(() =>
      queue.run(async () => {
        if (closed) return;
        if ('all' in scope) {
          // Memberships may have changed while the broker was away.
          const now = await findMemberConversations(session.deps.db, session.userId);
          const current = new Set(now.map((c) => c.conversationId));
          for (const id of [...followed.keys()]) if (!current.has(id)) unfollow(id);
          for (const c of now) {
            if (!followed.has(c.conversationId)) {
              await follow(c.conversationId);
              // Joined while the broker was away: from where they joined.
              const start = { seq: c.joinedSeq, changeSeq: c.joinedChangeSeq };
              await handlers.onFollow(c.conversationId, start, c);
            }
          }
        }
        for (const id of followed.keys()) {
          if (await isMember(session, id)) {
            await whileDatabaseAway(() => handlers.onResync(id), { stopped: () => closed });
          } else {
            unfollow(id);
            if (!('all' in scope)) handlers.onRemoved(id);
          }
        }
      }),
    ),
  );

  return { close };
}

/**
 * A feed that fills a subscription's channel: removal ends the channel with NOT_FOUND, a failure
 * with the error, and closing the channel (client gone) closes the feed.
 */
export async function openChannelFeed<T>(
  session: Session,
  scope: Parameters<typeof openFeed>[1],
  build: (channel: Channel<T>) => Pick<FeedHandlers, 'onEvent'> & Partial<FeedHandlers>,
  opts: { onClose?: () => void; buffer?: Partial<ChannelOptions<T>>; kind?: FeedKind } = {},
): Promise<Channel<T>> {
  let feed: Feed | undefined;
  const channel = new Channel<T>(() => {
    feed?.close();
    opts.onClose?.();
  }, opts.buffer);
  feed = await openFeed(
    session,
    scope,
    {
      onFollow: async () => {},
      onStarted: async () => {},
      onUnfollow: () => {},
      onResync: async () => {},
      onRemoved: () => channel.fail(conversationNotFound()),
      onError: (err) => channel.fail(err),
      ...build(channel),
    },
    opts.kind,
  );
  if (channel.closed) feed.close();
  return channel;
}
