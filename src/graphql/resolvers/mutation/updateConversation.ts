import { updateConversation as update } from '../../../domain/groups.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const updateConversation: NonNullable<MutationResolvers['updateConversation']> = (
  _parent,
  args,
  ctx,
) => update(requireSession(ctx), args.input);
