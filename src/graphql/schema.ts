import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { GraphQLScalarType, Kind, parse, type GraphQLSchema } from 'graphql';
import type { Resolvers } from './__generated__/resolvers.js';
import { resolvers } from './resolvers/index.js';

const schemaFile = fileURLToPath(new URL('../../schema.graphql', import.meta.url));

export function buildSchema(): GraphQLSchema {
  const typeDefs = readFileSync(schemaFile, 'utf8');
  return makeExecutableSchema({ typeDefs, resolvers: keepScalarDescriptions(typeDefs, resolvers) });
}

/**
 * A scalar's resolver from a library (graphql-scalars' DateTime) carries a description of its
 * own, which makeExecutableSchema copies over the one in schema.graphql: introspection would
 * serve a text that schema.graphql does not have. Each such scalar keeps its behaviour and takes
 * schema.graphql's description.
 */
function keepScalarDescriptions(typeDefs: string, all: Resolvers): Resolvers {
  const described = new Map<string, string>();
  for (const definition of parse(typeDefs).definitions) {
    if (definition.kind === Kind.SCALAR_TYPE_DEFINITION && definition.description) {
      described.set(definition.name.value, definition.description.value);
    }
  }
  const result: Record<string, unknown> = { ...all };
  for (const [name, description] of described) {
    const scalar = result[name];
    if (scalar instanceof GraphQLScalarType) {
      result[name] = new GraphQLScalarType({ ...scalar.toConfig(), description });
    }
  }
  return result as Resolvers;
}
