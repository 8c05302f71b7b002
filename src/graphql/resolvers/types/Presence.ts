import type { PresenceResolvers } from '../../__generated__/resolvers.js';
import { requireUser } from './User.js';

export const Presence: PresenceResolvers = {
  user: (presence, _args, ctx) => requireUser(ctx, presence.userId),
};
