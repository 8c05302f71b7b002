import type { UserRow } from '../../../db/schema.js';
import { visiblePresence } from '../../../domain/presence.js';
import type { UserResolvers } from '../../__generated__/resolvers.js';
import { requireSession, type GraphQLContext } from '../../context.js';
import { totalUnreadCount } from '../../../domain/messages.js';

/**
 * Accounts that register or login just proved to be the caller's: the request carries no token
 * of them yet, but the user they return is the caller all the same.
 */
const ownAccounts = new WeakSet<object>();

export function asOwnAccount<T extends object>(user: T): T {
  ownAccounts.add(user);
  return user;
}

// Only the columns a client may see are exposed; the row also holds the password hash.
export const User: UserResolvers = {
  id: (user) => user.id,
  phone: (user) => user.phone,
  // The caller's own only: an address is how to reach someone, and nobody was asked to share it.
  // (The row behind a User may be a message's sender, which carries no email: load it then.)
  email: async (user, _args, ctx) => {
    if (!ownAccounts.has(user) && (ctx.userId === null || ctx.userId !== user.id)) return null;
    if ('email' in user) return typeof user.email === 'string' ? user.email : null;
    return (await ctx.loaders.user.load(user.id))?.email ?? null;
  },
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
