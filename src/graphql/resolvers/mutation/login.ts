import { login as loginUser } from '../../../domain/users.js';
import type { MutationResolvers } from '../../__generated__/resolvers.js';

export const login: NonNullable<MutationResolvers['login']> = (_parent, args, ctx) =>
  loginUser(ctx.deps, args.input, ctx.clientIp, ctx.userId);
