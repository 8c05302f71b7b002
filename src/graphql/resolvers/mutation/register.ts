import { register as registerUser } from '../../../domain/users.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';

export const register: NonNullable<MutationResolvers['register']> = (_parent, args, ctx) =>
  registerUser(ctx.deps, args.input, ctx.clientIp);
