// Per-request DataLoaders: each batches one kind of lookup into one statement, so a page of
// conversations with members, last messages and senders costs a constant number of statements.
import DataLoader from 'dataloader';
import type { Executor } from './client.js';
import { findAttachmentsByIds, findAttachmentsOfMessages } from './attachments.js';
import {
  advanceDeliveredMany,
  findConversationViews,
  findMembers,
  type ConversationView,
} from './conversations.js';
import { findMessagesByKeys, type MessageKey } from './messages.js';
import { findReactionGroups, type ReactionGroupRow } from './reactions.js';
import type { AttachmentRow, MemberRow, MessageRow, UserRow } from './schema.js';
import { findUsersByIds } from './users.js';
import { blockedAmong } from './blocks.js';
import { findEarlierBodies, type MessageEditRow } from './message-edits.js';
import { countUnreadMentions } from './mentions.js';
import { findReplyPages, type ReplyPage, type ReplyPageQuery } from './replies.js';

/** A page of one message's thread: the message and the window. */
export type ReplyPageKey = MessageKey & ReplyPageQuery;

export interface Loaders {
  user: DataLoader<string, UserRow | undefined>;
  /** A conversation as the viewer sees it; undefined unless the viewer is a member. */
  conversation: DataLoader<string, ConversationView | undefined>;
  /** Members of a conversation, in joining order. */
  members: DataLoader<string, MemberRow[]>;
  message: DataLoader<MessageKey, MessageRow | undefined, string>;
  /** Attachments of a message, in order. */
  attachments: DataLoader<MessageKey, AttachmentRow[], string>;
  /** An attachment by id (a group's picture): a list of conversations reads them at once. */
  attachment: DataLoader<string, AttachmentRow | undefined>;
  /**
   * Reaction groups of a message as the viewer sees them, in the order each emoji was first
   * used (one statement for a page of messages, or for one event's subscribers).
   */
  reactions: DataLoader<MessageKey, ReactionGroupRow[], string>;
  /** Records that messages up to seq were handed to the viewer (batched into one update). */
  delivered: DataLoader<MessageKey, true, string>;
  /** Whether the viewer blocked this user. */
  blocked: DataLoader<string, boolean>;
  /** Earlier bodies of a message, oldest first. */
  edits: DataLoader<MessageKey, MessageEditRow[], string>;
  /** A page of a message's replies (one statement per window for all the messages asked). */
  replies: DataLoader<ReplyPageKey, ReplyPage, string>;
  /** The viewer's unread mentions in a conversation (0 when not a member). */
  unreadMentions: DataLoader<string, number>;
}

const keyOf = (k: MessageKey) => `${k.conversationId}:${k.seq}`;
const replyKeyOf = (k: ReplyPageKey) => `${k.conversationId}:${k.seq}:${k.afterSeq}:${k.limit}`;

export function createLoaders(
  db: Executor,
  viewerId: string | null,
  /** Off for long-lived contexts (a subscription): each event must see current data. */
  cache = true,
): Loaders {
  return new LazyLoaders(db, viewerId, cache);
}

/**
 * Each loader is made the first time it is used: most requests use one or two, and a
 * subscription's context lives as long as the subscription (thousands of them per instance).
 */
class LazyLoaders implements Loaders {
  #user?: Loaders['user'];
  #conversation?: Loaders['conversation'];
  #members?: Loaders['members'];
  #message?: Loaders['message'];
  #attachments?: Loaders['attachments'];
  #attachment?: Loaders['attachment'];
  #reactions?: Loaders['reactions'];
  #delivered?: Loaders['delivered'];
  #blocked?: Loaders['blocked'];
  #edits?: Loaders['edits'];
  #replies?: Loaders['replies'];
  #unreadMentions?: Loaders['unreadMentions'];

  constructor(
    private readonly db: Executor,
    private readonly viewerId: string | null,
    private readonly cache: boolean,
  ) {}

  get user(): Loaders['user'] {
    const { db, cache } = this;
    return (this.#user ??= new DataLoader(
      async (ids) => {
        const rows = await findUsersByIds(db, ids);
        const byId = new Map(rows.map((r) => [r.id, r]));
        return ids.map((id) => byId.get(id));
      },
      { cache },
    ));
  }

  get conversation(): Loaders['conversation'] {
    const { db, viewerId, cache } = this;
    return (this.#conversation ??= new DataLoader(
      async (ids) => {
        const rows = viewerId ? await findConversationViews(db, ids, viewerId) : [];
        const byId = new Map(rows.map((r) => [r.id, r]));
        return ids.map((id) => byId.get(id));
      },
      { cache },
    ));
  }

  get members(): Loaders['members'] {
    const { db, cache } = this;
    return (this.#members ??= new DataLoader(
      async (conversationIds) => {
        const rows = await findMembers(db, conversationIds);
        const byConversation = new Map<string, MemberRow[]>(conversationIds.map((id) => [id, []]));
        for (const row of rows) byConversation.get(row.conversationId)?.push(row);
        return conversationIds.map((id) => byConversation.get(id) ?? []);
      },
      { cache },
    ));
  }

  get message(): Loaders['message'] {
    const { db, cache } = this;
    return (this.#message ??= new DataLoader(
      async (keys) => {
        const rows = await findMessagesByKeys(db, keys);
        const byKey = new Map(rows.map((r) => [keyOf(r), r]));
        return keys.map((k) => byKey.get(keyOf(k)));
      },
      { cacheKeyFn: keyOf, cache },
    ));
  }

  get attachments(): Loaders['attachments'] {
    const { db, cache } = this;
    return (this.#attachments ??= new DataLoader(
      async (keys) => {
        const rows = await findAttachmentsOfMessages(db, keys);
        const byKey = new Map<string, AttachmentRow[]>(keys.map((k) => [keyOf(k), []]));
        for (const row of rows) {
          byKey.get(`${row.conversationId}:${row.messageSeq}`)?.push(row);
        }
        return keys.map((k) => byKey.get(keyOf(k)) ?? []);
      },
      { cacheKeyFn: keyOf, cache },
    ));
  }

  get attachment(): Loaders['attachment'] {
    const { db, cache } = this;
    return (this.#attachment ??= new DataLoader(
      async (ids) => {
        const rows = await findAttachmentsByIds(db, ids);
        const byId = new Map(rows.map((r) => [r.id, r]));
        return ids.map((id) => byId.get(id));
      },
      { cache },
    ));
  }

  get reactions(): Loaders['reactions'] {
    const { db, viewerId, cache } = this;
    return (this.#reactions ??= new DataLoader(
      async (keys) => {
        const rows = await findReactionGroups(db, keys, viewerId);
        const byKey = new Map<string, ReactionGroupRow[]>(keys.map((k) => [keyOf(k), []]));
        for (const row of rows) byKey.get(keyOf(row))?.push(row);
        return keys.map((k) => byKey.get(keyOf(k)) ?? []);
      },
      { cacheKeyFn: keyOf, cache },
    ));
  }

  get edits(): Loaders['edits'] {
    const { db, cache } = this;
    return (this.#edits ??= new DataLoader(
      async (keys) => {
        const rows = await findEarlierBodies(db, keys);
        const byKey = new Map<string, MessageEditRow[]>(keys.map((k) => [keyOf(k), []]));
        for (const row of rows) byKey.get(keyOf(row))?.push(row);
        return keys.map((k) => byKey.get(keyOf(k)) ?? []);
      },
      { cacheKeyFn: keyOf, cache },
    ));
  }

  get replies(): Loaders['replies'] {
    const { db, cache } = this;
    const windowOf = (k: ReplyPageKey) => `${k.afterSeq}:${k.limit}`;
    return (this.#replies ??= new DataLoader(
      async (keys) => {
        // Usually one window (the same `first`/`after` on every message of a page).
        const byWindow = new Map<string, ReplyPageKey[]>();
        for (const k of keys) {
          const list = byWindow.get(windowOf(k)) ?? [];
          list.push(k);
          byWindow.set(windowOf(k), list);
        }
        const pages = new Map<string, ReplyPage>();
        for (const list of byWindow.values()) {
          const found = await findReplyPages(db, list, list[0]!);
          list.forEach((k, i) => pages.set(replyKeyOf(k), found[i]!));
        }
        return keys.map((k) => pages.get(replyKeyOf(k))!);
      },
      { cacheKeyFn: replyKeyOf, cache },
    ));
  }

  get unreadMentions(): Loaders['unreadMentions'] {
    const { db, viewerId, cache } = this;
    return (this.#unreadMentions ??= new DataLoader(
      async (conversationIds) => {
        const counts = viewerId
          ? await countUnreadMentions(db, viewerId, conversationIds)
          : new Map<string, number>();
        return conversationIds.map((id) => counts.get(id) ?? 0);
      },
      { cache },
    ));
  }

  get blocked(): Loaders['blocked'] {
    const { db, viewerId, cache } = this;
    return (this.#blocked ??= new DataLoader(
      async (ids) => {
        if (!viewerId) return ids.map(() => false);
        const blocked = await blockedAmong(db, viewerId, ids);
        return ids.map((id) => blocked.has(id));
      },
      { cache },
    ));
  }

  get delivered(): Loaders['delivered'] {
    const { db, viewerId, cache } = this;
    return (this.#delivered ??= new DataLoader(
      async (keys) => {
        if (viewerId) {
          const highest = new Map<string, number>();
          for (const k of keys) {
            highest.set(k.conversationId, Math.max(highest.get(k.conversationId) ?? 0, k.seq));
          }
          await advanceDeliveredMany(
            db,
            [...highest].map(([conversationId, seq]) => ({
              conversationId,
              userId: viewerId,
              seq,
            })),
          );
        }
        return keys.map(() => true as const);
      },
      { cacheKeyFn: keyOf, cache },
    ));
  }
}
