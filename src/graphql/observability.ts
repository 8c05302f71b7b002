// Per-operation metrics and logs. Labels use the root field (a closed set), never the
// client-chosen operation name; logs carry the request id and never variables (they hold
// passwords and message bodies).
import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { Kind, type GraphQLError } from 'graphql';
import { DomainError } from '../domain/errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { GraphQLContext } from './context.js';

const SLOW_MS = 1_000;

/**
 * An error's contract code as the client gets it (graphql/errors.ts): a DomainError thrown by a
 * resolver carries its code on itself, not yet in the GraphQLError's extensions.
 */
function codeOf(error: GraphQLError): string {
  const original = unwrapResolverError(error);
  if (original instanceof DomainError) return original.code;
  const inner = (original as { originalError?: unknown } | null)?.originalError;
  if (inner instanceof DomainError) return inner.code;
  const code = error.extensions?.['code'];
  return typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
}

export function observabilityPlugin(
  logger: Logger,
  metrics: Metrics,
): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart({ contextValue }) {
      const started = process.hrtime.bigint();
      let field = 'unknown';
      let kind = 'unknown';
      return {
        async didResolveOperation({ operation }) {
          if (!operation) return;
          kind = operation.operation;
          const first = operation.selectionSet.selections[0];
          if (first?.kind === Kind.FIELD) field = first.name.value;
        },
        async willSendResponse({ errors }) {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const codes = (errors ?? []).map(codeOf);
          const outcome = codes.length === 0 ? 'ok' : codes[0]!;
          metrics.requests.inc({ field, kind, outcome });
          metrics.duration.observe({ field, kind }, seconds);
          if (field === 'sendMessage' && codes.length === 0) metrics.messagesSent.inc();
          const entry = {
            requestId: contextValue.requestId,
            userId: contextValue.userId ?? undefined,
            operation: field,
            kind,
            ms: Math.round(seconds * 1000),
            ...(codes.length ? { errors: codes } : {}),
          };
          if (codes.includes('INTERNAL_SERVER_ERROR')) logger.error(entry, 'request failed');
          else if (seconds * 1000 > SLOW_MS) logger.warn(entry, 'slow request');
          else logger.debug(entry, 'request');
        },
      };
    },
  };
}
