import { reactionUserIds } from '../../../domain/reactions.js';
import type { ReactionGroupResolvers } from '../../__generated__/resolvers.js';
import { requireUser } from './User.js';

export const ReactionGroup: ReactionGroupResolvers = {
  emoji: (g) => g.emoji,
  count: (g) => g.count,
  reactedByMe: (g) => g.reactedByMe,
  // Batched with the other users of the request (one statement for a page's reactions).
  users: (g, args, ctx) =>
    Promise.all(reactionUserIds(g, args.first).map((id) => requireUser(ctx, id))),
};
