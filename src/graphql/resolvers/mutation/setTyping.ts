import { setTyping as announce } from '../../../domain/messages.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const setTyping: NonNullable<MutationResolvers['setTyping']> = (_parent, args, ctx) =>
  announce(requireSession(ctx), args.conversationId, args.isTyping);
