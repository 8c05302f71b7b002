import { unmuteConversation as run } from '../../../domain/privacy.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const unmuteConversation: NonNullable<MutationResolvers['unmuteConversation']> = (
  _parent,
  args,
  ctx,
) => run(requireSession(ctx), args.conversationId);
