import type { ReadReceiptResolvers } from '../../__generated__/resolvers.js';
import { requireUser } from './User.js';

export const ReadReceipt: ReadReceiptResolvers = {
  user: (receipt, _args, ctx) => requireUser(ctx, receipt.userId),
};
