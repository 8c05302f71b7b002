// Muting (per conversation, until a time or until unmuted) and blocking (per user). A muted
// conversation still counts unread messages but never pushes. A blocker gets no push, presence or
// typing from the user they blocked and sees that user's group messages flagged
// (`Message.senderBlocked`); the blocked user cannot open or write a direct conversation with
// the blocker, and is not told why.
import { deleteBlock, insertBlock, listBlockedUsers } from '../db/blocks.js';
import { setMutedUntil, type ConversationView } from '../db/conversations.js';
import type { UserRow } from '../db/schema.js';
import type { Session } from './context.js';
import { requireConversation } from './conversations.js';
import { badInput, conversationNotFound, notFound } from './errors.js';
import { isUuid } from './ids.js';
import { tellOwnDevices } from './streams/conversation-updates.js';

/** Stored for "until unmuted". */
const FOREVER = 'infinity';

const userNotFound = () => notFound('User not found.');

export async function muteConversation(
  session: Session,
  conversationId: string,
  until: Date | null | undefined,
): Promise<ConversationView> {
  if (until && until.getTime() <= Date.now()) {
    throw badInput('until must be in the future (or null: until unmuted).', 'until');
  }
  const value = until ? until.toISOString() : FOREVER;
  if (!isUuid(conversationId)) throw conversationNotFound();
  if (!(await setMutedUntil(session.deps.db, conversationId, session.userId, value))) {
    throw conversationNotFound();
  }
  tellOwnDevices(session, conversationId, 'MUTE');
  return requireConversation(session, conversationId);
}

export async function unmuteConversation(
  session: Session,
  conversationId: string,
): Promise<ConversationView> {
  if (!isUuid(conversationId)) throw conversationNotFound();
  if (!(await setMutedUntil(session.deps.db, conversationId, session.userId, null))) {
    throw conversationNotFound();
  }
  tellOwnDevices(session, conversationId, 'MUTE');
  return requireConversation(session, conversationId);
}

/** The mute as the API shows it: muted now, and until when (null: until unmuted, or not muted). */
export function muteOf(view: Pick<ConversationView, 'viewerMutedUntil'>): {
  muted: boolean;
  until: Date | null;
} {
  const stored = view.viewerMutedUntil;
  if (stored === null) return { muted: false, until: null };
  if (stored === FOREVER) return { muted: true, until: null };
  const until = new Date(stored);
  return until.getTime() > Date.now() ? { muted: true, until } : { muted: false, until: null };
}

async function requireOtherUser(session: Session, userId: string): Promise<string> {
  if (!isUuid(userId)) throw userNotFound();
  if (userId === session.userId) throw badInput('You cannot block yourself.', 'userId');
  const user = await session.loaders.user.load(userId);
  if (!user) throw userNotFound();
  return user.id;
}

/** Blocks a user; true also when they were blocked already. */
export async function blockUser(session: Session, userId: string): Promise<boolean> {
  const id = await requireOtherUser(session, userId);
  await insertBlock(session.deps.db, session.userId, id);
  return true;
}

/** Unblocks a user; false when they were not blocked. */
export async function unblockUser(session: Session, userId: string): Promise<boolean> {
  if (!isUuid(userId)) throw userNotFound();
  return deleteBlock(session.deps.db, session.userId, userId);
}

export function blockedUsers(session: Session): Promise<UserRow[]> {
  return listBlockedUsers(session.deps.db, session.userId);
}

/** Whether the viewer blocked the sender of a message (batched per request: Loaders.blocked). */
export function senderBlocked(session: Session, senderId: string): Promise<boolean> {
  if (senderId === session.userId) return Promise.resolve(false);
  return session.loaders.blocked.load(senderId);
}
