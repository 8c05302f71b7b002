// Two kinds of error reach a client: expected ones (a DomainError, or GraphQL's own complaints
// about the request) pass through with their code; anything else is logged with an id and masked.
import { randomUUID } from 'node:crypto';
import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { DomainError } from '../domain/errors.js';
import type { Logger } from '../logger.js';

const REQUEST_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

export function createErrorFormatter(logger: Logger, opts: { hideSchemaDetails?: boolean } = {}) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    let original = unwrapResolverError(error);
    // graphql-ws wraps an error thrown by a subscription's stream in a GraphQLError without a
    // path, which unwrapResolverError leaves alone.
    const inner = (original as { originalError?: unknown } | null)?.originalError;
    if (inner instanceof DomainError) original = inner;
    const where = {
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
    };
    if (original instanceof DomainError) {
      return {
        message: original.message,
        ...where,
        extensions: { ...original.extensions, code: original.code },
      };
    }
    const code = formatted.extensions?.['code'];
    if (typeof code === 'string' && REQUEST_ERROR_CODES.has(code) && original === error) {
      // In production the schema is not spelled out to strangers: no "Did you mean ...?".
      const message = opts.hideSchemaDetails
        ? formatted.message.replace(/ ?Did you mean .*$/s, '')
        : formatted.message;
      // Outside the contract's codes: naming a missing operation is a bad request.
      const contractCode = code === 'OPERATION_RESOLUTION_FAILURE' ? 'BAD_REQUEST' : code;
      return { message, ...where, extensions: { code: contractCode } };
    }
    const errorId = randomUUID();
    logger.error({ err: original, errorId, path: formatted.path }, 'unexpected error');
    return {
      message: `Unexpected error. If it persists, report error id ${errorId}.`,
      ...where,
      extensions: { code: 'INTERNAL_SERVER_ERROR', errorId },
    };
  };
}
