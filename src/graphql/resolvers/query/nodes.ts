import { findNodes } from '../../../domain/nodes.js';
import type { QueryResolvers } from '../../__generated__/resolvers.js';
import { requireSession } from '../../context.js';

export const nodes: NonNullable<QueryResolvers['nodes']> = (_parent, args, ctx) =>
  findNodes(requireSession(ctx), args.ids);
