import { setMemberRole as setRole } from '../../../domain/groups.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const setMemberRole: NonNullable<MutationResolvers['setMemberRole']> = (
  _parent,
  args,
  ctx,
) => setRole(requireSession(ctx), args.conversationId, args.userId, args.role);
