import { findConversation } from '../../../domain/conversations.js';
import type { QueryResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const conversation: NonNullable<QueryResolvers['conversation']> = (_parent, args, ctx) =>
  findConversation(requireSession(ctx), args.id);
