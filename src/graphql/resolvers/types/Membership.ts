import type { MembershipResolvers } from '../../__generated__/resolvers.js';
import { requireUser } from './User.js';

export const Membership: MembershipResolvers = {
  user: (m, _args, ctx) => requireUser(ctx, m.userId),
};
