import type { UserRow } from '../../../db/schema.js';
import { listMessages } from '../../../domain/messages.js';
import type { ConversationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const Conversation: ConversationResolvers = {
  title: (c) => (c.kind === 'GROUP' ? c.title : null),
  members: async (c, _args, ctx) => {
    const members = await ctx.loaders.members.load(c.id);
    const users = await ctx.loaders.user.loadMany(members.map((m) => m.userId));
    return users.filter((u): u is UserRow => u !== undefined && !(u instanceof Error));
  },
  lastMessage: async (c, _args, ctx) => {
    if (c.lastSeq === 0) return null;
    const key = { conversationId: c.id, seq: c.lastSeq };
    const [message] = await Promise.all([
      ctx.loaders.message.load(key),
      // Fetching it delivers it; written only when that moves the viewer's mark.
      c.lastSeq > c.viewerLastDeliveredSeq ? ctx.loaders.delivered.load(key) : null,
    ]);
    return message ?? null;
  },
  unreadCount: (c) => Math.max(0, c.lastSeq - c.viewerLastReadSeq),
  messages: (c, args, ctx) => listMessages(requireSession(ctx), c.id, args),
};
