import { encodeMessageId } from '../../../domain/ids.js';
import type { LiveMessageRow } from '../../../db/schema.js';
import type { StreamItem } from '../../../domain/streams/messages.js';
import { attachmentsOf, editsOf, messageCursor, statusOf } from '../../../domain/messages.js';
import { senderBlocked } from '../../../domain/privacy.js';
import { mentionsOf } from '../../../domain/mentions.js';
import { reactionsOf } from '../../../domain/reactions.js';
import { repliesOf, replyToOf } from '../../../domain/replies.js';
import type { MessageResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';
import { requireUser } from './User.js';

export const Message: MessageResolvers = {
  id: (m) => encodeMessageId(m),
  conversationId: (m) => m.conversationId,
  cursor: (m) => messageCursor(m),
  streamCursor: (m: StreamItem) => m.streamCursor ?? null,
  // A live event carries its sender; a stored message looks them up.
  sender: (m: LiveMessageRow, _args, ctx) => m.sender ?? requireUser(ctx, m.senderId),
  attachments: (m, _args, ctx) => attachmentsOf(requireSession(ctx), m),
  status: (m, _args, ctx) => statusOf(requireSession(ctx), m),
  // Read when selected, live events too: a query per event, batched per execution.
  reactions: (m, _args, ctx) => reactionsOf(requireSession(ctx), m),
  senderBlocked: (m, _args, ctx) => senderBlocked(requireSession(ctx), m.senderId),
  edits: (m, _args, ctx) => editsOf(requireSession(ctx), m),
  kind: (m) => m.kind,
  systemEvent: (m) => (m.systemEvent ? { ...m.systemEvent, actorId: m.senderId } : null),
  // Batched per execution: the parents, threads and mentioned users of a page are a read each.
  replyTo: (m, _args, ctx) => replyToOf(requireSession(ctx), m),
  replyCount: (m) => m.replyCount,
  replies: (m, args, ctx) => repliesOf(requireSession(ctx), m, args),
  mentions: (m, _args, ctx) => mentionsOf(requireSession(ctx), m),
};
