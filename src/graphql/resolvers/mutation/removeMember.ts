import { removeMember as remove } from '../../../domain/groups.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const removeMember: NonNullable<MutationResolvers['removeMember']> = (_parent, args, ctx) =>
  remove(requireSession(ctx), args.conversationId, args.userId);
