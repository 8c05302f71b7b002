import { subscribeTyping } from '../../../domain/streams/ephemeral.js';
import type { TypingPayload } from '../../../realtime/events.js';
import type { SubscriptionResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const typingChanged: NonNullable<SubscriptionResolvers['typingChanged']> = {
  subscribe: (_parent, args, ctx) => subscribeTyping(requireSession(ctx), args.conversationId),
  resolve: (event: TypingPayload) => event,
};
