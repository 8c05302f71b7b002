import type { MessageRow } from '../../../db/schema.js';
import { subscribeMessageUpdated } from '../../../domain/streams/messages.js';
import type { SubscriptionResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';
import { openWhenDatabaseBack } from '../../../domain/streams/conversation-feed.js';

export const messageUpdated: NonNullable<SubscriptionResolvers['messageUpdated']> = {
  subscribe: (_parent, args, ctx) => {
    const session = requireSession(ctx);
    return openWhenDatabaseBack(session, () => subscribeMessageUpdated(session, args));
  },
  resolve: (message: MessageRow) => message,
};
