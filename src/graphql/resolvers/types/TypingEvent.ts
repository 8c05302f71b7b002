import type { TypingEventResolvers } from '../../__generated__/resolvers.js';
import { requireUser } from './User.js';

export const TypingEvent: TypingEventResolvers = {
  user: (event, _args, ctx) => requireUser(ctx, event.userId),
};
