import { register as registerUser } from '../../../domain/users.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';
import { asOwnAccount } from '../types/User.js';

export const register: NonNullable<MutationResolvers['register']> = async (_parent, args, ctx) => {
  const auth = await registerUser(ctx.deps, args.input, ctx.clientIp);
  return { ...auth, user: asOwnAccount(auth.user) };
};
