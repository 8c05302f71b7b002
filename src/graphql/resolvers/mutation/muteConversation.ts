import { muteConversation as run } from '../../../domain/privacy.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

// The DateTime scalar hands over a Date (typed as its serialized string).
export const muteConversation: NonNullable<MutationResolvers['muteConversation']> = (
  _parent,
  args,
  ctx,
) => run(requireSession(ctx), args.conversationId, args.until ? new Date(args.until) : null);
