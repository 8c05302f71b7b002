import { listMessages } from '../../../domain/messages.js';
import type { QueryResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const messages: NonNullable<QueryResolvers['messages']> = (_parent, args, ctx) =>
  listMessages(requireSession(ctx), args.conversationId, args);
