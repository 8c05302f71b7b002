import { subscribeMessageAdded, type StreamItem } from '../../../domain/streams/messages.js';
import type { SubscriptionResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';
import { selectsField } from '../../selection.js';

export const messageAdded: NonNullable<SubscriptionResolvers['messageAdded']> = {
  subscribe: (_parent, args, ctx, info) =>
    subscribeMessageAdded(requireSession(ctx), args, {
      wantsCursor: selectsField(info, 'streamCursor'),
    }),
  resolve: (message: StreamItem) => message,
};
