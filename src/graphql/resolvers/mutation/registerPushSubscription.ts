import { registerPushSubscription as register } from '../../../domain/notifications.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const registerPushSubscription: NonNullable<
  MutationResolvers['registerPushSubscription']
> = (_parent, args, ctx) => register(requireSession(ctx), args.input);
