import { subscribePresence } from '../../../domain/streams/presence.js';
import type { PresencePayload } from '../../../realtime/events.js';
import type { SubscriptionResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const presenceChanged: NonNullable<SubscriptionResolvers['presenceChanged']> = {
  subscribe: (_parent, args, ctx) => subscribePresence(requireSession(ctx), args.userIds),
  resolve: (presence: PresencePayload) => presence,
};
