import type { UserRow } from '../../../db/schema.js';
import { membershipsOf } from '../../../domain/conversations.js';
import { avatarOf } from '../../../domain/groups.js';
import { lastMessageOf, listMessagesOf, unreadCount } from '../../../domain/messages.js';
import { unreadMentionCount } from '../../../domain/mentions.js';
import { muteOf } from '../../../domain/privacy.js';
import type { ConversationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

// A view may be an outsider's (a public group, one just left): the domain functions give them
// its details only, none of its members or messages.
export const Conversation: ConversationResolvers = {
  members: async (c, _args, ctx) => {
    const members = await membershipsOf(requireSession(ctx), c);
    const users = await ctx.loaders.user.loadMany(members.map((m) => m.userId));
    return users.filter((u): u is UserRow => u !== undefined && !(u instanceof Error));
  },
  lastMessage: (c, _args, ctx) => lastMessageOf(requireSession(ctx), c),
  unreadCount: (c) => unreadCount(c),
  unreadMentionCount: (c, _args, ctx) => unreadMentionCount(requireSession(ctx), c),
  // The conversation was loaded for this viewer: no second membership lookup.
  messages: (c, args, ctx) => listMessagesOf(requireSession(ctx), c, args),
  isMuted: (c) => muteOf(c).muted,
  mutedUntil: (c) => muteOf(c).until,
  avatar: (c, _args, ctx) => avatarOf(requireSession(ctx), c),
  myRole: (c) => c.viewerRole,
  memberships: (c, _args, ctx) => membershipsOf(requireSession(ctx), c),
  readReceipts: async (c, _args, ctx) =>
    (await membershipsOf(requireSession(ctx), c)).map((m) => ({
      conversationId: c.id,
      userId: m.userId,
      lastReadSeq: m.lastReadSeq,
      readAt: m.lastReadAt ?? m.joinedAt,
    })),
};
