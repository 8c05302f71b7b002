import { findAttachment } from '../../../db/attachments.js';
import type { ConversationView } from '../../../db/conversations.js';
import type { UserRow } from '../../../db/schema.js';
import { conversationNotFound } from '../../../domain/errors.js';
import { lastMessageOf, listMessagesOf, unreadCount } from '../../../domain/messages.js';
import { muteOf } from '../../../domain/privacy.js';
import type { ConversationResolvers } from '../../__generated__/resolvers.js';
import type { GraphQLContext } from '../../context.js';
import { requireSession } from '../../context.js';

// A view with no role is a conversation the caller is not in (a public group they look at, or
// one they just left): its details only, none of its members or messages.
const isMember = (c: ConversationView) => c.viewerRole !== null;

const membershipsOf = async (c: ConversationView, ctx: GraphQLContext) =>
  isMember(c) ? ctx.loaders.members.load(c.id) : [];

export const Conversation: ConversationResolvers = {
  members: async (c, _args, ctx) => {
    const members = await membershipsOf(c, ctx);
    const users = await ctx.loaders.user.loadMany(members.map((m) => m.userId));
    return users.filter((u): u is UserRow => u !== undefined && !(u instanceof Error));
  },
  lastMessage: (c, _args, ctx) => (isMember(c) ? lastMessageOf(requireSession(ctx), c) : null),
  unreadCount: (c) => (isMember(c) ? unreadCount(c) : 0),
  // The conversation was loaded for this viewer: no second membership lookup.
  messages: (c, args, ctx) => {
    if (!isMember(c)) throw conversationNotFound();
    return listMessagesOf(requireSession(ctx), c, args);
  },
  isMuted: (c) => muteOf(c).muted,
  mutedUntil: (c) => muteOf(c).until,
  avatar: async (c, _args, ctx) =>
    c.avatarAttachmentId
      ? ((await findAttachment(requireSession(ctx).deps.db, c.avatarAttachmentId)) ?? null)
      : null,
  myRole: (c) => c.viewerRole,
  memberships: (c, _args, ctx) => membershipsOf(c, ctx),
  readReceipts: async (c, _args, ctx) =>
    (await membershipsOf(c, ctx)).map((m) => ({
      conversationId: c.id,
      userId: m.userId,
      lastReadSeq: m.lastReadSeq,
      readAt: m.lastReadAt ?? m.joinedAt,
    })),
};
