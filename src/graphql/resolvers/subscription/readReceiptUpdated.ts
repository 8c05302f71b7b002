import { subscribeReceipts } from '../../../domain/streams/ephemeral.js';
import type { ReceiptPayload } from '../../../realtime/events.js';
import type { SubscriptionResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const readReceiptUpdated: NonNullable<SubscriptionResolvers['readReceiptUpdated']> = {
  subscribe: (_parent, args, ctx) => subscribeReceipts(requireSession(ctx), args.conversationId),
  resolve: (receipt: ReceiptPayload) => receipt,
};
