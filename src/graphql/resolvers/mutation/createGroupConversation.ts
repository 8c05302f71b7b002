import { createGroupConversation as create } from '../../../domain/conversations.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const createGroupConversation: NonNullable<MutationResolvers['createGroupConversation']> = (
  _parent,
  args,
  ctx,
) => create(requireSession(ctx), args.input);
