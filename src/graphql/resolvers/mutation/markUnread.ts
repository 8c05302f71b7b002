import { markUnread as unread } from '../../../domain/messages.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const markUnread: NonNullable<MutationResolvers['markUnread']> = (_parent, args, ctx) =>
  unread(requireSession(ctx), args.messageId);
