import { publicConversations as list } from '../../../domain/public-conversations.js';
import type { QueryResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const publicConversations: NonNullable<QueryResolvers['publicConversations']> = (
  _parent,
  args,
  ctx,
) => list(requireSession(ctx), args);
