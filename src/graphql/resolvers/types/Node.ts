import { nodeTypeOf } from '../../../domain/nodes.js';
import type { NodeResolvers } from '../../__generated__/resolvers.js';

export const Node: NodeResolvers = {
  __resolveType: (node) => nodeTypeOf(node),
};
