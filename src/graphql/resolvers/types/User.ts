import type { UserRow } from '../../../db/schema.js';
import type { UserResolvers } from '../../__generated__/resolvers.js';
import type { GraphQLContext } from '../../context.js';

// Only the columns a client may see are exposed; the row also holds the password hash.
export const User: UserResolvers = {
  id: (user) => user.id,
  phone: (user) => user.phone,
  displayName: (user) => user.displayName,
  // Only contacts (users who share a conversation) and the user themself see presence.
  presence: async (user, _args, ctx) => {
    if (!ctx.userId) return null;
    const visible = await ctx.deps.contacts.load({ viewerId: ctx.userId, userId: user.id });
    return visible ? ctx.presence.load(user.id) : null;
  },
};

export async function requireUser(ctx: GraphQLContext, id: string): Promise<UserRow> {
  const user = await ctx.loaders.user.load(id);
  if (!user) throw new Error(`user ${id} is missing`);
  return user;
}
