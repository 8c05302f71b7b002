import { vapidPublicKey as publicKey } from '../../../domain/notifications.js';
import type { QueryResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const vapidPublicKey: NonNullable<QueryResolvers['vapidPublicKey']> = (
  _parent,
  _args,
  ctx,
) => publicKey(requireSession(ctx).deps.push);
