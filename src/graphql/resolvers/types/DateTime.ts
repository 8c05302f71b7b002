import { GraphQLScalarType } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';

/**
 * graphql-scalars' DateTime, serialized to its ISO string here rather than left a Date for
 * JSON.stringify to convert: the same text, but JSON.stringify calling back into each Date's
 * toJSON made writing out a 50-message page take about twice as long (measured on the page's
 * result shape).
 */
export const DateTime = new GraphQLScalarType({
  ...DateTimeResolver.toConfig(),
  serialize(value) {
    const date = DateTimeResolver.serialize(value);
    return date instanceof Date ? date.toISOString() : date;
  },
});
