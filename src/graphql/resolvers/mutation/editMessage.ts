import { editMessage as edit } from '../../../domain/messages.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const editMessage: NonNullable<MutationResolvers['editMessage']> = (_parent, args, ctx) =>
  edit(requireSession(ctx), args.input);
