import type { UserRow } from '../../../db/schema.js';
import { lastMessageOf, listMessagesOf, unreadCount } from '../../../domain/messages.js';
import { muteOf } from '../../../domain/privacy.js';
import type { ConversationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const Conversation: ConversationResolvers = {
  members: async (c, _args, ctx) => {
    const members = await ctx.loaders.members.load(c.id);
    const users = await ctx.loaders.user.loadMany(members.map((m) => m.userId));
    return users.filter((u): u is UserRow => u !== undefined && !(u instanceof Error));
  },
  lastMessage: (c, _args, ctx) => lastMessageOf(requireSession(ctx), c),
  unreadCount: (c) => unreadCount(c),
  // The conversation was loaded for this viewer: no second membership lookup.
  messages: (c, args, ctx) => listMessagesOf(requireSession(ctx), c, args),
  isMuted: (c) => muteOf(c).muted,
  mutedUntil: (c) => muteOf(c).until,
};
