// conversationUpdated: what changed in the caller's conversations, for every device of theirs, on
// whichever instance it is connected to. It is a feed over all of the user's conversations that
// listens to their member set topics only (members, roles, details), and to the user's own
// topic: joins and removals (durable), read positions and mutes (ephemeral, see tellOwnDevices).
//
// An update carries the conversation as the subscriber sees it after the change, read here,
// before it is handed on: a room of 10,000 members is one statement per instance for all of its
// local subscribers (ViewBatcher), and member changes are gathered per conversation into at most
// one update every MEMBERS_WINDOW_MS (a burst of joins is one update). A view is read only while
// the subscriber is still a member (the statement joins their membership): an update that comes
// after its removal committed finds none and is dropped, and REMOVED is the last update of that
// conversation until they join again.
import DataLoader from 'dataloader';
import {
  findConversationRow,
  findConversationViewsOfUsers,
  outsiderView,
  type ConversationView,
} from '../../db/conversations.js';
import { SerialQueue } from '../../realtime/channel.js';
import {
  topics,
  type ConversationUpdatePayload,
  type ConversationUpdateReason,
  type UserUpdatedEvent,
} from '../../realtime/events.js';
import type { Deps, Session } from '../context.js';
import { openChannelFeed, openWhenDatabaseBack, whileDatabaseAway } from './conversation-feed.js';

/** Member changes of a conversation reach a subscriber at most once per this window (trailing). */
export const MEMBERS_WINDOW_MS = 500;

/** Tells the caller's devices (all of them, every instance) that their own state changed. */
export function tellOwnDevices(
  session: Session,
  conversationId: string,
  reason: UserUpdatedEvent['reason'],
): void {
  session.deps.events.publishEphemeral(topics.user(session.userId), {
    type: 'updated',
    conversationId,
    userId: session.userId,
    reason,
  });
}

interface ViewKey {
  conversationId: string;
  userId: string;
}

/** A subscription waiting for a conversation's member changes window to close. */
interface MembersWaiter {
  membersDue(conversationId: string): void;
}

/**
 * What an instance's subscriptions share: the views they read, gathered across them, and the
 * windows that gather member changes.
 */
class UpdateHub {
  /**
   * Views asked for until the event loop's check phase, so that every subscriber an event (or a
   * window's timer) reaches asks in one statement per conversation: a microtask or nextTick
   * would flush between two timer callbacks, setImmediate after all of them.
   */
  readonly views: DataLoader<ViewKey, ConversationView | undefined, string>;
  private readonly windows = new Map<string, Set<MembersWaiter>>();

  constructor(deps: Deps) {
    this.views = new DataLoader(
      async (keys) => {
        const usersOf = new Map<string, Set<string>>();
        for (const { conversationId, userId } of keys) {
          let users = usersOf.get(conversationId);
          if (!users) usersOf.set(conversationId, (users = new Set()));
          users.add(userId);
        }
        const found = new Map(
          await Promise.all(
            [...usersOf].map(
              async ([id, users]) =>
                [id, await findConversationViewsOfUsers(deps.db, id, [...users])] as const,
            ),
          ),
        );
        return keys.map((k) => found.get(k.conversationId)?.get(k.userId));
      },
      {
        cache: false,
        batchScheduleFn: (run) => setImmediate(run),
        maxBatchSize: 10_000,
        cacheKeyFn: (k) => `${k.conversationId}:${k.userId}`,
      },
    );
  }

  /** Calls `waiter.membersDue` when the conversation's current window closes (opens one). */
  waitForMembers(conversationId: string, waiter: MembersWaiter): void {
    let waiting = this.windows.get(conversationId);
    if (!waiting) {
      const opened = new Set<MembersWaiter>();
      waiting = opened;
      this.windows.set(conversationId, opened);
      setTimeout(() => {
        this.windows.delete(conversationId);
        for (const w of opened) w.membersDue(conversationId);
      }, MEMBERS_WINDOW_MS).unref();
    }
    waiting.add(waiter);
  }

  stopWaiting(conversationId: string, waiter: MembersWaiter): void {
    this.windows.get(conversationId)?.delete(waiter);
  }
}

const hubs = new WeakMap<Deps, UpdateHub>();
const hubOf = (deps: Deps): UpdateHub => {
  let hub = hubs.get(deps);
  if (!hub) hubs.set(deps, (hub = new UpdateHub(deps)));
  return hub;
};

/** Waits while the database is away (see openWhenDatabaseBack). */
export const subscribeConversationUpdates = (
  session: Session,
): Promise<AsyncIterableIterator<ConversationUpdatePayload>> =>
  openWhenDatabaseBack(session, () => openUpdates(session));

async function openUpdates(
  session: Session,
): Promise<AsyncIterableIterator<ConversationUpdatePayload>> {
  const hub = hubOf(session.deps);
  /** Conversations whose member changes this subscription waits to hand on. */
  const waitingOn = new Set<string>();
  /** The member set version of the newest view handed on, per conversation. */
  const shownVersion = new Map<string, number>();
  let started = false;
  let stopped = false;
  let waiter: MembersWaiter | undefined;

  return openChannelFeed<ConversationUpdatePayload>(
    session,
    { all: true },
    (channel) => {
      // Updates go out in the order they came, each with the view read for it: REMOVED, queued
      // last, is never overtaken by an update of the same conversation read before it.
      const queue = new SerialQueue((err) => channel.fail(err));

      const viewFor = (conversationId: string, reason: ConversationUpdateReason) =>
        reason === 'REMOVED'
          ? findConversationRow(session.deps.db, conversationId).then(
              (row) => row && outsiderView(row),
            )
          : hub.views.load({ conversationId, userId: session.userId });

      const emit = (conversationId: string, reason: ConversationUpdateReason) =>
        queue.run(async () => {
          // While the database is away (a restart) the update waits for it.
          const view = await whileDatabaseAway(() => viewFor(conversationId, reason), {
            stopped: () => channel.closed,
          });
          // No view: no longer a member (REMOVED follows), or the conversation is gone.
          if (!view || channel.closed) return;
          if (reason === 'REMOVED') {
            shownVersion.delete(conversationId);
          } else {
            // Member changes the subscriber has seen already (in a JOINED, say): nothing new.
            const shown = shownVersion.get(conversationId);
            if (reason === 'MEMBERS' && shown !== undefined && shown >= view.memberVersion) return;
            shownVersion.set(conversationId, view.memberVersion);
          }
          channel.push({ conversationId, reason, conversation: view });
        });

      waiter = {
        membersDue(conversationId) {
          if (!waitingOn.delete(conversationId) || stopped) return;
          emit(conversationId, 'MEMBERS');
        },
      };
      const members = waiter;

      return {
        // Followed at the start: nothing to tell. Followed later: they joined.
        onFollow: async (conversationId) => {
          if (started) emit(conversationId, 'JOINED');
        },
        onStarted: async () => {
          started = true;
        },
        // Unfollowed: no longer a member (removed, left on another device), whichever came first
        // of the member set change and the user's own `left` event.
        onUnfollow(conversationId) {
          if (waitingOn.delete(conversationId)) hub.stopWaiting(conversationId, members);
          emit(conversationId, 'REMOVED');
        },
        onEvent(event) {
          if (event.type === 'members') {
            if (waitingOn.has(event.conversationId)) return;
            waitingOn.add(event.conversationId);
            hub.waitForMembers(event.conversationId, members);
          } else if (event.type === 'changed') {
            emit(event.conversationId, event.reason);
          }
        },
        onUserEvent(event) {
          if (event.type === 'updated') emit(event.conversationId, event.reason);
        },
      };
    },
    {
      kind: 'updates',
      onClose: () => {
        stopped = true;
        if (waiter) for (const id of waitingOn) hub.stopWaiting(id, waiter);
        waitingOn.clear();
        shownVersion.clear();
      },
      // Never shed (a lost REMOVED would leave a stale conversation): a client that falls too
      // far behind is disconnected, and refetches when it comes back.
      buffer: { maxBuffer: 1_000, overflow: session.closeSlowConsumer ?? 'fail' },
    },
  );
}
