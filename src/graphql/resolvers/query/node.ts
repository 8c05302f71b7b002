import { findNode } from '../../../domain/nodes.js';
import type { QueryResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const node: NonNullable<QueryResolvers['node']> = (_parent, args, ctx) =>
  findNode(requireSession(ctx), args.id);
