import { encodeMessageId } from '../../../domain/ids.js';
import { messageCursor, messageStatus } from '../../../domain/messages.js';
import type { MessageResolvers } from '../../__generated__/resolvers.js';
import { requireUser } from './User.js';

export const Message: MessageResolvers = {
  id: (m) => encodeMessageId(m),
  conversationId: (m) => m.conversationId,
  cursor: (m) => messageCursor(m),
  sender: (m, _args, ctx) => requireUser(ctx, m.senderId),
  // Most messages have none: no lookup for them. A deleted message's files are no longer served.
  attachments: (m, _args, ctx) =>
    m.attachmentCount === 0 || m.deletedAt ? [] : ctx.loaders.attachments.load(m),
  status: async (m, _args, ctx) =>
    messageStatus(m, await ctx.loaders.members.load(m.conversationId)),
};
