import { addMembers as add } from '../../../domain/conversations.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const addMembers: NonNullable<MutationResolvers['addMembers']> = (_parent, args, ctx) =>
  add(requireSession(ctx), args.conversationId, args);
