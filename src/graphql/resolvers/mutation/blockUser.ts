import { blockUser as run } from '../../../domain/privacy.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const blockUser: NonNullable<MutationResolvers['blockUser']> = (_parent, args, ctx) =>
  run(requireSession(ctx), args.userId);
