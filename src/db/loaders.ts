// Per-request DataLoaders: each batches one kind of lookup into one statement, so a page of
// conversations with members, last messages and senders costs a constant number of statements.
import DataLoader from 'dataloader';
import type { Executor } from './client.js';
import { findAttachmentsOfMessages } from './attachments.js';
import { advanceDeliveredMany, findMembers } from './conversations.js';
import { findMessagesByKeys, type MessageKey } from './messages.js';
import type { AttachmentRow, MemberRow, MessageRow, UserRow } from './schema.js';
import { findUsersByIds } from './users.js';

export interface Loaders {
  user: DataLoader<string, UserRow | undefined>;
  /** Members of a conversation, in joining order. */
  members: DataLoader<string, MemberRow[]>;
  message: DataLoader<MessageKey, MessageRow | undefined, string>;
  /** Attachments of a message, in order. */
  attachments: DataLoader<MessageKey, AttachmentRow[], string>;
  /** Records that messages up to seq were handed to the viewer (batched into one update). */
  delivered: DataLoader<MessageKey, true, string>;
}

const keyOf = (k: MessageKey) => `${k.conversationId}:${k.seq}`;

export function createLoaders(
  db: Executor,
  viewerId: string | null,
  /** Off for long-lived contexts (a subscription): each event must see current data. */
  cache = true,
): Loaders {
  return {
    user: new DataLoader(
      async (ids) => {
        const rows = await findUsersByIds(db, ids);
        const byId = new Map(rows.map((r) => [r.id, r]));
        return ids.map((id) => byId.get(id));
      },
      { cache },
    ),
    members: new DataLoader(
      async (conversationIds) => {
        const rows = await findMembers(db, conversationIds);
        const byConversation = new Map<string, MemberRow[]>(conversationIds.map((id) => [id, []]));
        for (const row of rows) byConversation.get(row.conversationId)?.push(row);
        return conversationIds.map((id) => byConversation.get(id) ?? []);
      },
      { cache },
    ),
    message: new DataLoader(
      async (keys) => {
        const rows = await findMessagesByKeys(db, keys);
        const byKey = new Map(rows.map((r) => [keyOf(r), r]));
        return keys.map((k) => byKey.get(keyOf(k)));
      },
      { cacheKeyFn: keyOf, cache },
    ),
    attachments: new DataLoader(
      async (keys) => {
        const rows = await findAttachmentsOfMessages(db, keys);
        const byKey = new Map<string, AttachmentRow[]>(keys.map((k) => [keyOf(k), []]));
        for (const row of rows) {
          byKey.get(`${row.conversationId}:${row.messageSeq}`)?.push(row);
        }
        return keys.map((k) => byKey.get(keyOf(k)) ?? []);
      },
      { cacheKeyFn: keyOf, cache },
    ),
    delivered: new DataLoader(
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
    ),
  };
}
