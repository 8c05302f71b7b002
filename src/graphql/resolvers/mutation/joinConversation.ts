import { joinConversation as join } from '../../../domain/invites.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const joinConversation: NonNullable<MutationResolvers['joinConversation']> = (
  _parent,
  args,
  ctx,
) => join(requireSession(ctx), args);
