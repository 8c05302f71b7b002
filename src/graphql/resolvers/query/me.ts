import { me as loadMe } from '../../../domain/users.js';
import type { QueryResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const me: NonNullable<QueryResolvers['me']> = (_parent, _args, ctx) =>
  loadMe(requireSession(ctx));
