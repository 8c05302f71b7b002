import { markRead as mark } from '../../../domain/messages.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const markRead: NonNullable<MutationResolvers['markRead']> = (_parent, args, ctx) =>
  mark(requireSession(ctx), args.messageId);
