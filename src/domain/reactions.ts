// Emoji reactions (issue 18). The rules live here; see drizzle/0012 for the table.
import { updateMessage } from '../db/messages.js';
import {
  deleteReaction,
  insertReaction,
  lockMessageOfMember,
  REACTION_USERS_READ,
  type ReactionGroupRow,
} from '../db/reactions.js';
import type { MessageRow } from '../db/schema.js';
import type { Session } from './context.js';
import { badInput, messageNotFound } from './errors.js';
import { messageEvent, type Staged } from './events.js';
import { decodeMessageId, type MessageKey } from './ids.js';

/**
 * One emoji of one message as a viewer sees it: how many reacted, whether the viewer did, and
 * the first few who did (up to `maxReactionUsers`, earliest first).
 */
export type ReactionGroupView = ReactionGroupRow;

/** Distinct emojis one message may carry. */
export const maxReactionEmojis = 20;
/** `ReactionGroup.users(first)`: its default and most. */
export const defaultReactionUsers = 3;
export const maxReactionUsers = REACTION_USERS_READ;

/** A short name as chat apps write one (`:thumbsup:`, `:+1:`, `:flag-fr:`). */
const SHORT_NAME = /^:[a-z0-9_+-]{1,32}:$/;

// One emoji as a grapheme cluster: a flag (a pair of regional indicators), a keycap (0-9 # *,
// optionally U+FE0F, then U+20E3), or pictographs joined by ZWJ (U+200D), each optionally with
// U+FE0F or a skin tone, and a tag sequence (the flags of England, Scotland, Wales). A skin tone
// or a regional indicator alone is not a reaction; neither is a digit without its keycap.
const PICTOGRAPH =
  String.raw`(?![\p{Emoji_Modifier}\p{Regional_Indicator}])[\p{Extended_Pictographic}\p{Emoji_Presentation}]` +
  String.raw`(?:\p{Emoji_Modifier}|\uFE0F)?(?:[\u{E0020}-\u{E007E}]+\u{E007F})?`;
const EMOJI = new RegExp(
  String.raw`^(?:\p{Regional_Indicator}{2}|[0-9#*]\uFE0F?\u20E3|${PICTOGRAPH}(?:\u200D${PICTOGRAPH})*)$`,
  'u',
);
/** Longer than any emoji (the longest are about 15 UTF-16 units): not parsed at all. */
const MAX_EMOJI_LENGTH = 64;

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

const isOneGrapheme = (text: string): boolean => {
  const segments = graphemes.segment(text)[Symbol.iterator]();
  const first = segments.next();
  return !first.done && segments.next().done === true;
};

/**
 * The emoji of a reaction, in NFC: one emoji (one grapheme cluster) or a short `:name:`. Anything
 * else is BAD_USER_INPUT on `emoji`.
 */
export function parseEmoji(emoji: string): string {
  const value = emoji.length <= MAX_EMOJI_LENGTH ? emoji.normalize('NFC') : '';
  if (SHORT_NAME.test(value) || (EMOJI.test(value) && isOneGrapheme(value))) return value;
  throw badInput(
    'emoji must be one emoji (such as 👍) or a short name of 1–32 lowercase letters, digits, _ + - between colons (such as :thumbsup:).',
    'emoji',
  );
}

/** A message id that names no message the caller can see: NOT_FOUND, like a missing one. */
const messageKeyOf = (messageId: string): MessageKey => {
  const key = decodeMessageId(messageId);
  if (!key) throw messageNotFound();
  return key;
};

/** The caller reacts to a message with an emoji; reacting twice with one emoji is one reaction. */
export const addReaction = (session: Session, messageId: string, emoji: string) =>
  changeReaction(session, messageId, emoji, 'add');

/** The caller takes their reaction back; nothing happens when they had not reacted with it. */
export const removeReaction = (session: Session, messageId: string, emoji: string) =>
  changeReaction(session, messageId, emoji, 'remove');

/**
 * Changes a reaction under the conversation's lock. A change gives the message the next change
 * position and a `messageUpdated` event, as an edit does, so live subscribers and resuming
 * streams see the new reactions; no change, no event. The caller's read position stays.
 */
async function changeReaction(
  session: Session,
  messageId: string,
  emoji: string,
  change: 'add' | 'remove',
): Promise<MessageRow> {
  const key = messageKeyOf(messageId);
  const value = parseEmoji(emoji);
  const { deps, userId } = session;
  // PGlite has one connection: inside the transaction, everything goes through `tx`.
  const result = await deps.db.transaction(async (tx) => {
    const message = await lockMessageOfMember(tx, key, userId);
    if (!message) throw messageNotFound();
    if (message.deletedAt) {
      throw badInput('This message was deleted: it takes no reactions.', 'messageId');
    }
    let changed: boolean;
    if (change === 'add') {
      const added = await insertReaction(tx, key, value, userId, maxReactionEmojis);
      if (added === 'full') {
        throw badInput(
          `A message takes at most ${maxReactionEmojis} different emojis: react with one it already has.`,
          'emoji',
        );
      }
      changed = added === 'added';
    } else {
      changed = await deleteReaction(tx, key, value, userId);
    }
    if (!changed) return { message, staged: null };
    const updated = await updateMessage(tx, key, {});
    if (!updated) throw messageNotFound(); // cannot happen: the message is locked above
    const event = messageEvent('messageUpdated', updated, updated);
    const staged: Staged = await deps.events.stage(tx, [
      { conversationId: key.conversationId, event },
    ]);
    return { message: updated as MessageRow, staged };
  });
  if (result.staged) {
    // Committed: ring the doorbell (a failed publish is retried from the outbox).
    deps.events.publish(result.staged);
    // Reactions read later in this request (a second mutation of the document) are current.
    session.loaders.reactions.clear(key);
  }
  return result.message;
}

/** A message's reaction groups as the viewer sees them: none once it is deleted. */
export function reactionsOf(
  session: Session,
  message: MessageRow,
): ReactionGroupView[] | Promise<ReactionGroupView[]> {
  if (message.deletedAt) return [];
  return session.loaders.reactions.load(message);
}

/** The first `first` (default 3, at most 20) who reacted with this emoji, earliest first. */
export function reactionUserIds(
  group: ReactionGroupView,
  first: number | null | undefined,
): readonly string[] {
  const n = first ?? defaultReactionUsers;
  if (!Number.isInteger(n) || n < 0 || n > maxReactionUsers) {
    throw badInput(`first must be between 0 and ${maxReactionUsers}.`, 'first');
  }
  return group.firstUserIds.slice(0, n);
}
