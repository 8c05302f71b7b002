// GraphQL over WebSocket (graphql-transport-ws) on the HTTP server's /graphql path. The token
// travels in connection_init: { "authorization": "Bearer <token>" }; without a valid one the
// socket closes with 4403, and without connection_init within a few seconds with 4408.
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { GraphQLError, GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Deps } from '../domain/context.js';
import type { Logger } from '../logger.js';
import { authenticate, createSubscriptionContext } from './context.js';
import { createErrorFormatter } from './errors.js';

export interface WebSocketOptions {
  maxPayloadBytes: number;
  connectionInitWaitMs: number;
  keepAliveMs: number;
}

export function attachWebSocketServer(
  httpServer: http.Server,
  schema: GraphQLSchema,
  deps: Deps,
  logger: Logger,
  opts: WebSocketOptions,
) {
  const wsServer = new WebSocketServer({
    server: httpServer,
    path: '/graphql',
    maxPayload: opts.maxPayloadBytes,
  });
  const format = createErrorFormatter(logger);
  const formatAll = (errors: readonly GraphQLError[]): GraphQLFormattedError[] =>
    errors.map((e) => format(e.toJSON(), e));

  const server = useServer<Record<string, unknown>, { userId: string; connectionId: string }>(
    {
      schema,
      connectionInitWaitTimeout: opts.connectionInitWaitMs,
      onConnect: async (ctx) => {
        const result = await authenticate(deps, ctx.connectionParams?.['authorization']);
        if ('error' in result) return false; // graphql-ws closes with 4403 Forbidden
        ctx.extra.userId = result.userId;
        ctx.extra.connectionId = randomUUID();
        deps.presence
          .connected(result.userId, ctx.extra.connectionId)
          .catch((err: unknown) => logger.warn({ err: String(err) }, 'presence connect failed'));
        return true;
      },
      onDisconnect: (ctx) => {
        if (!ctx.extra.userId || !ctx.extra.connectionId) return;
        deps.presence
          .disconnected(ctx.extra.userId, ctx.extra.connectionId)
          .catch((err: unknown) => logger.warn({ err: String(err) }, 'presence disconnect failed'));
      },
      context: (ctx) =>
        createSubscriptionContext(
          deps,
          ctx.extra.userId!,
          ctx.extra.connectionId ?? randomUUID(),
          // 1013 "try again later": graphql-ws clients reconnect, and resume from their cursor.
          () => ctx.extra.socket.close(1013, 'Too slow: reconnect and resume'),
        ),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: formatAll(result.errors) } : undefined,
      onError: (_ctx, _id, _payload, errors) => formatAll(errors),
    },
    wsServer,
    opts.keepAliveMs,
  );

  return {
    wsServer,
    /** Closes every socket ("going away") and stops accepting new ones. */
    async dispose() {
      await server.dispose();
    },
  };
}
