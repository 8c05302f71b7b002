import { subscribeConversationUpdates } from '../../../domain/streams/conversation-updates.js';
import type { ConversationUpdatePayload } from '../../../realtime/events.js';
import type { SubscriptionResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const conversationUpdated: NonNullable<SubscriptionResolvers['conversationUpdated']> = {
  subscribe: (_parent, _args, ctx) => subscribeConversationUpdates(requireSession(ctx)),
  resolve: (update: ConversationUpdatePayload) => update,
};
