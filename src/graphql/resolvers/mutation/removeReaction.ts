import { removeReaction as remove } from '../../../domain/reactions.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const removeReaction: NonNullable<MutationResolvers['removeReaction']> = (
  _parent,
  args,
  ctx,
) => remove(requireSession(ctx), args.messageId, args.emoji);
