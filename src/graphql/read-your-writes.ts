// Every mutation tells the history reads that its caller has written, once it has finished (its
// transaction committed), so that caller's next history page or search comes from a replica
// only once that replica has their write (src/db/replicas.ts). Over HTTP and WebSocket alike.
import type { GraphQLFieldResolver } from 'graphql';
import type { GraphQLContext } from './context.js';

type AnyResolver = GraphQLFieldResolver<unknown, GraphQLContext, Record<string, unknown>>;

export function notingWrites<T extends object>(mutations: T): T {
  const wrapped = Object.entries(mutations).map(([name, resolve]) => {
    const inner = resolve as AnyResolver;
    const outer: AnyResolver = async (parent, args, ctx, info) => {
      try {
        return await inner(parent, args, ctx, info);
      } finally {
        if (ctx.userId) ctx.deps.historyReads.wrote(ctx.userId);
      }
    };
    return [name, outer];
  });
  return Object.fromEntries(wrapped) as T;
}
