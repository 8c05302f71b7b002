import { startDirectConversation as start } from '../../../domain/conversations.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const startDirectConversation: NonNullable<MutationResolvers['startDirectConversation']> = (
  _parent,
  args,
  ctx,
) => start(requireSession(ctx), args);
