import { updateProfile as update } from '../../../domain/users.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const updateProfile: NonNullable<MutationResolvers['updateProfile']> = (
  _parent,
  args,
  ctx,
) => update(requireSession(ctx), args.input);
