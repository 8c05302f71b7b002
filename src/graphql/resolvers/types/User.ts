import type { UserResolvers } from '../../__generated__/resolvers.js';

// Only the columns a client may see are exposed; the row also holds the password hash.
export const User: UserResolvers = {
  id: (user) => user.id,
  phone: (user) => user.phone,
  displayName: (user) => user.displayName,
};
