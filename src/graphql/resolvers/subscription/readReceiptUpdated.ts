import { subscribeReceipts } from '../../../domain/streams/ephemeral.js';
import type { ReceiptPayload } from '../../../realtime/events.js';
import type { SubscriptionResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';
import { openWhenDatabaseBack } from '../../../domain/streams/conversation-feed.js';

export const readReceiptUpdated: NonNullable<SubscriptionResolvers['readReceiptUpdated']> = {
  subscribe: (_parent, args, ctx) => {
    const session = requireSession(ctx);
    return openWhenDatabaseBack(session, () => subscribeReceipts(session, args.conversationId));
  },
  resolve: (receipt: ReceiptPayload) => receipt,
};
