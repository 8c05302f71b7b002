import type { UserRow } from '../../../db/schema.js';
import { visiblePresence } from '../../../domain/presence.js';
import type { UserResolvers } from '../../__generated__/resolvers.js';
import { requireSession, type GraphQLContext } from '../../context.js';
import { totalUnreadCount } from '../../../domain/messages.js';
import { emailOf } from '../../../domain/users.js';

// Only the columns a client may see are exposed; the row also holds the password hash.
export const User: UserResolvers = {
  id: (user) => user.id,
  phone: (user) => user.phone,
  email: (user, _args, ctx) => emailOf(ctx.userId, user, (id) => ctx.loaders.user.load(id)),
  displayName: (user) => user.displayName,
  presence: (user, _args, ctx) =>
    visiblePresence(ctx.deps, ctx.userId, user.id, (id) => ctx.presence.load(id)),
  // The caller's own (null for anyone else, and when nobody is signed in).
  totalUnreadCount: (user, _args, ctx) =>
    ctx.userId === user.id ? totalUnreadCount(requireSession(ctx), user.id) : null,
};

export async function requireUser(ctx: GraphQLContext, id: string): Promise<UserRow> {
  const user = await ctx.loaders.user.load(id);
  if (!user) throw new Error(`user ${id} is missing`);
  return user;
}
