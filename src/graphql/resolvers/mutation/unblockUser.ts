import { unblockUser as run } from '../../../domain/privacy.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const unblockUser: NonNullable<MutationResolvers['unblockUser']> = (_parent, args, ctx) =>
  run(requireSession(ctx), args.userId);
