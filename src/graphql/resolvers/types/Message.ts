import { encodeMessageId } from '../../../domain/ids.js';
import { messageStatus } from '../../../domain/messages.js';
import type { MessageResolvers } from '../../__generated__/resolvers.js';

export const Message: MessageResolvers = {
  id: (m) => encodeMessageId(m),
  conversationId: (m) => m.conversationId,
  sender: async (m, _args, ctx) => {
    const sender = await ctx.loaders.user.load(m.senderId);
    if (!sender) throw new Error(`sender ${m.senderId} of a message is missing`);
    return sender;
  },
  body: (m) => (m.deletedAt ? null : m.body),
  status: async (m, _args, ctx) =>
    messageStatus(m, await ctx.loaders.members.load(m.conversationId)),
};
