import { createInvite as create } from '../../../domain/invites.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

// The DateTime scalar hands over a Date (typed as its serialized string).
export const createInvite: NonNullable<MutationResolvers['createInvite']> = (_parent, args, ctx) =>
  create(
    requireSession(ctx),
    args.conversationId,
    args.expiresAt ? new Date(args.expiresAt) : null,
    args.maxUses ?? null,
  );
