import { encodeMessageId } from '../../../domain/ids.js';
import { attachmentsOf, messageCursor, messageStatus } from '../../../domain/messages.js';
import type { MessageResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';
import { requireUser } from './User.js';

export const Message: MessageResolvers = {
  id: (m) => encodeMessageId(m),
  conversationId: (m) => m.conversationId,
  cursor: (m) => messageCursor(m),
  sender: (m, _args, ctx) => requireUser(ctx, m.senderId),
  attachments: (m, _args, ctx) => attachmentsOf(requireSession(ctx), m),
  status: async (m, _args, ctx) =>
    messageStatus(m, await ctx.loaders.members.load(m.conversationId)),
};
