import { listConversations } from '../../../domain/conversations.js';
import type { QueryResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const conversations: NonNullable<QueryResolvers['conversations']> = (_parent, args, ctx) =>
  listConversations(requireSession(ctx), args);
