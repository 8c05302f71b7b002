import { deleteMessage as remove } from '../../../domain/messages.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const deleteMessage: NonNullable<MutationResolvers['deleteMessage']> = (
  _parent,
  args,
  ctx,
) => remove(requireSession(ctx), args.messageId);
