import { leaveConversation as leave } from '../../../domain/conversations.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const leaveConversation: NonNullable<MutationResolvers['leaveConversation']> = (
  _parent,
  args,
  ctx,
) => leave(requireSession(ctx), args.conversationId);
