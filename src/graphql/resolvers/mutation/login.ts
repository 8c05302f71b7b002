import { login as loginUser } from '../../../domain/users.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { asOwnAccount } from '../types/User.js';

export const login: NonNullable<MutationResolvers['login']> = async (_parent, args, ctx) => {
  const auth = await loginUser(ctx.deps, args.input, ctx.clientIp, ctx.userId);
  return { ...auth, user: asOwnAccount(auth.user) };
};
