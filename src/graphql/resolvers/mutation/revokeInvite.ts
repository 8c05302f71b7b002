import { revokeInvite as revoke } from '../../../domain/invites.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const revokeInvite: NonNullable<MutationResolvers['revokeInvite']> = (_parent, args, ctx) =>
  revoke(requireSession(ctx), args.code);
