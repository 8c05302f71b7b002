import type { MessageRow } from '../../../db/schema.js';
import { subscribeMessageUpdated } from '../../../domain/streams/messages.js';
import type { SubscriptionResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const messageUpdated: NonNullable<SubscriptionResolvers['messageUpdated']> = {
  subscribe: (_parent, args, ctx) => subscribeMessageUpdated(requireSession(ctx), args),
  resolve: (message: MessageRow) => message,
};
