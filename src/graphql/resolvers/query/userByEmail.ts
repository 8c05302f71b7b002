import { userByEmail as findUser } from '../../../domain/users.js';
import type { QueryResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const userByEmail: NonNullable<QueryResolvers['userByEmail']> = (_parent, args, ctx) =>
  findUser(requireSession(ctx), args.email);
