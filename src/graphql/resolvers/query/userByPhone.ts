import { userByPhone as findUser } from '../../../domain/users.js';
import type { QueryResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const userByPhone: NonNullable<QueryResolvers['userByPhone']> = (_parent, args, ctx) =>
  findUser(requireSession(ctx), args.phone);
