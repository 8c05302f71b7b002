import { addReaction as add } from '../../../domain/reactions.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const addReaction: NonNullable<MutationResolvers['addReaction']> = (_parent, args, ctx) =>
  add(requireSession(ctx), args.messageId, args.emoji);
