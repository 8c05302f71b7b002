import type { UserRow } from '../../../db/schema.js';
import type { SystemEventResolvers } from '../../__generated__/resolvers.js';
import { requireUser } from './User.js';

export const SystemEvent: SystemEventResolvers = {
  actor: (e, _args, ctx) => requireUser(ctx, e.actorId),
  subject: (e, _args, ctx) => (e.subjectIds[0] ? requireUser(ctx, e.subjectIds[0]) : null),
  subjects: async (e, _args, ctx) => {
    const users = await ctx.loaders.user.loadMany(e.subjectIds);
    return users.filter((u): u is UserRow => u !== undefined && !(u instanceof Error));
  },
  role: (e) => e.role ?? null,
  fields: (e) => e.fields ?? null,
  title: (e) => e.title ?? null,
};
