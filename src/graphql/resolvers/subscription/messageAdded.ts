import type { MessageRow } from '../../../db/schema.js';
import { subscribeMessageAdded } from '../../../domain/streams/messages.js';
import type { SubscriptionResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';
import { openWhenDatabaseBack } from '../../../domain/streams/conversation-feed.js';

export const messageAdded: NonNullable<SubscriptionResolvers['messageAdded']> = {
  subscribe: (_parent, args, ctx) => {
    const session = requireSession(ctx);
    return openWhenDatabaseBack(session, () => subscribeMessageAdded(session, args));
  },
  resolve: (message: MessageRow) => message,
};
