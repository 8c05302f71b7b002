import type { ConversationUpdateResolvers } from '../../__generated__/resolvers.js';

export const ConversationUpdate: ConversationUpdateResolvers = {
  // Read for the subscriber when the update was handed on (domain/streams/conversation-updates.ts):
  // as a member sees it, or for REMOVED as someone outside it does.
  conversation: (update) => update.conversation,
};
