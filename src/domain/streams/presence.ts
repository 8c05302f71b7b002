// presenceChanged: ONLINE/OFFLINE of the caller's contacts, as they are when each change arrives
// (see Presence.watch), narrowed to `userIds` when given.
import { Channel } from '../../realtime/channel.js';
import type { PresencePayload } from '../../realtime/events.js';
import type { Session } from '../context.js';
import { badInput } from '../errors.js';
import { isUuid } from '../ids.js';

/** Presence events not yet sent to a slow client: the oldest are shed first. */
const PRESENCE_BUFFER = 100;

export async function subscribePresence(
  session: Session,
  userIds: readonly string[] | null | undefined,
): Promise<AsyncIterableIterator<PresencePayload>> {
  if (userIds && userIds.length > 1_000) throw badInput('At most 1,000 userIds.', 'userIds');
  // Ids that are not user ids can match nobody: narrowing never widens.
  const only = userIds ? new Set(userIds.filter(isUuid)) : null;
  /** The newest version handed on per user: a change overtaken by a newer one is dropped. */
  const versions = new Map<string, number>();
  let unsubscribe: (() => void) | undefined;
  const channel = new Channel<PresencePayload>(() => unsubscribe?.(), {
    maxBuffer: PRESENCE_BUFFER,
    overflow: 'drop-oldest',
  });
  unsubscribe = await session.deps.presence.watch(session.userId, {
    changed(event) {
      if (only && !only.has(event.userId)) return;
      if (event.version <= (versions.get(event.userId) ?? 0)) return;
      versions.set(event.userId, event.version);
      channel.push({
        userId: event.userId,
        status: event.status,
        lastSeenAt: event.lastSeenAt ? new Date(event.lastSeenAt) : null,
      });
    },
    failed: (err) => channel.fail(err),
  });
  if (channel.closed) unsubscribe();
  return channel;
}
