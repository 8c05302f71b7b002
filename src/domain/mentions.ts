// Mentions (issue 18): a message may name members of its conversation (sendMessage
// mentionUserIds). The send function checks they are members under the conversation's lock and
// stores them (drizzle/0014); each mentioned member but the sender gets it counted in their
// unreadMentionCount and pushed even where they muted the conversation (parley_push_check).
import type { ConversationView } from '../db/conversations.js';
import type { MessageRow, UserRow } from '../db/schema.js';
import type { Session } from './context.js';
import { badInput, type DomainError } from './errors.js';
import { isUuid } from './ids.js';

/** Members one message may mention. */
export const maxMentions = 50;

export const mentionNotMember = (): DomainError =>
  badInput(
    'mentionUserIds may name only current members of the conversation (user ids).',
    'mentionUserIds',
  );

/**
 * The users a message mentions, from `mentionUserIds`: user ids, each once (the first place it is
 * given is its place), at most `maxMentions` of them. Whether they are members is the send's to
 * check (under the conversation's lock).
 */
export function parseMentionUserIds(ids: readonly string[] | null | undefined): string[] {
  if (ids === null || ids === undefined) return [];
  const distinct: string[] = [];
  const seen = new Set<string>();
  for (const id of ids) {
    // A malformed id names no member: the same answer as an id of someone outside.
    const value = id.toLowerCase();
    if (!isUuid(value)) throw mentionNotMember();
    if (seen.has(value)) continue;
    seen.add(value);
    distinct.push(value);
    if (distinct.length > maxMentions) {
      throw badInput(
        `A message may mention at most ${maxMentions} people (mentionUserIds).`,
        'mentionUserIds',
      );
    }
  }
  return distinct;
}

/** The users a message mentions, in the order the sender gave; none once it is deleted. */
export async function mentionsOf(session: Session, message: MessageRow): Promise<UserRow[]> {
  const ids = message.mentionUserIds;
  if (!ids || ids.length === 0 || message.deletedAt) return [];
  const users = await session.loaders.user.loadMany(ids);
  return users.filter((u): u is UserRow => u !== undefined && !(u instanceof Error));
}

/**
 * Messages after the viewer's read position that mention them and are not deleted (batched
 * over a list of conversations). Nothing unread: nothing to count.
 */
export function unreadMentionCount(
  session: Session,
  view: ConversationView,
): number | Promise<number> {
  if (view.viewerRole === null || view.lastSeq <= view.viewerLastReadSeq) return 0;
  return session.loaders.unreadMentions.load(view.id);
}
