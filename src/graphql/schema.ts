import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { resolvers } from './resolvers/index.js';

const schemaFile = fileURLToPath(new URL('../../schema.graphql', import.meta.url));

export function buildSchema(): GraphQLSchema {
  return makeExecutableSchema({ typeDefs: readFileSync(schemaFile, 'utf8'), resolvers });
}
