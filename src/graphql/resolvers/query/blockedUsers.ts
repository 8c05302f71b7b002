import { blockedUsers as run } from '../../../domain/privacy.js';
import type { QueryResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const blockedUsers: NonNullable<QueryResolvers['blockedUsers']> = (_parent, args, ctx) =>
  run(requireSession(ctx));
