import { unregisterPushSubscription as unregister } from '../../../domain/notifications.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const unregisterPushSubscription: NonNullable<
  MutationResolvers['unregisterPushSubscription']
> = (_parent, args, ctx) => unregister(requireSession(ctx), args.endpoint);
