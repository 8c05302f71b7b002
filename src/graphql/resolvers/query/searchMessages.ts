import { searchMessages as search } from '../../../domain/search.js';
import type { QueryResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const searchMessages: NonNullable<QueryResolvers['searchMessages']> = (_parent, args, ctx) =>
  search(requireSession(ctx), args);
