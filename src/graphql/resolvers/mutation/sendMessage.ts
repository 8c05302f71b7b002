import { sendMessage as send } from '../../../domain/messages.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const sendMessage: NonNullable<MutationResolvers['sendMessage']> = (_parent, args, ctx) =>
  send(requireSession(ctx), args.input);
