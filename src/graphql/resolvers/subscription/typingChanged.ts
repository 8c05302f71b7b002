import { subscribeTyping } from '../../../domain/streams/ephemeral.js';
import type { TypingPayload } from '../../../realtime/events.js';
import type { SubscriptionResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';
import { openWhenDatabaseBack } from '../../../domain/streams/conversation-feed.js';

export const typingChanged: NonNullable<SubscriptionResolvers['typingChanged']> = {
  subscribe: (_parent, args, ctx) => {
    const session = requireSession(ctx);
    return openWhenDatabaseBack(session, () => subscribeTyping(session, args.conversationId));
  },
  resolve: (event: TypingPayload) => event,
};
