import type { MessageRow } from '../../../db/schema.js';
import { subscribeMessageAdded } from '../../../domain/streams/messages.js';
import type { SubscriptionResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const messageAdded: NonNullable<SubscriptionResolvers['messageAdded']> = {
  subscribe: (_parent, args, ctx) => subscribeMessageAdded(requireSession(ctx), args),
  resolve: (message: MessageRow) => message,
};
