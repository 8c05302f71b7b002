// GraphQL over WebSocket (graphql-transport-ws) on the HTTP server's /graphql path. The token
// travels in connection_init: { "authorization": "Bearer <token>" }; without a valid one the
// socket closes with 4403, and without connection_init within a few seconds with 4408.
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import {
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocket, WebSocketServer } from 'ws';
import type { Deps } from '../domain/context.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { authenticate } from '../domain/auth.js';
import { createSubscriptionContext } from './context.js';
import { createErrorFormatter } from './errors.js';
import { introspectionRules, limitRules, queryLimits } from './query-limits.js';
import { createSharedSubscribe } from './shared-execution.js';

const DOCUMENT_CACHE_SIZE = 1_000;

// One frame for many sockets. graphql-ws serializes every `next` message itself, once per
// subscriber, even when (shared-execution.ts) they all carry the same result object. So the
// serializer's replacer swaps that payload for a marker, remembering the payload's JSON (made
// once per result object), and the socket's send puts the JSON back in place of the marker.
// graphql-ws calls send synchronously right after serializing, so nothing runs in between.
const PAYLOAD_MARKER = '\u0000parley-shared-payload';
const MARKED_END = `"payload":${JSON.stringify(PAYLOAD_MARKER)}}`;
const payloadJson = new WeakMap<object, string>();
let pendingPayload: string | undefined;

function sharePayload(this: unknown, key: string, value: unknown): unknown {
  if (
    key === 'payload' &&
    typeof value === 'object' &&
    value !== null &&
    (this as { type?: unknown }).type === 'next'
  ) {
    let json = payloadJson.get(value);
    if (json === undefined) payloadJson.set(value, (json = JSON.stringify(value)));
    pendingPayload = json;
    return PAYLOAD_MARKER;
  }
  return value;
}

class SharedFrameWebSocket extends WebSocket {
  override send(data: unknown, ...rest: unknown[]): void {
    const payload = pendingPayload;
    pendingPayload = undefined;
    const frame =
      payload !== undefined && typeof data === 'string' && data.endsWith(MARKED_END)
        ? `${data.slice(0, -MARKED_END.length)}"payload":${payload}}`
        : data;
    (super.send as (...args: unknown[]) => void)(frame, ...rest);
  }
}

export interface WebSocketOptions {
  maxPayloadBytes: number;
  connectionInitWaitMs: number;
  keepAliveMs: number;
  introspection: boolean;
  hideSchemaDetails: boolean;
}

export function attachWebSocketServer(
  httpServer: http.Server,
  schema: GraphQLSchema,
  deps: Deps,
  logger: Logger,
  metrics: Metrics,
  opts: WebSocketOptions,
) {
  const wsServer = new WebSocketServer({
    server: httpServer,
    path: '/graphql',
    maxPayload: opts.maxPayloadBytes,
    WebSocket: SharedFrameWebSocket,
  });
  const format = createErrorFormatter(logger, { hideSchemaDetails: opts.hideSchemaDetails });
  const formatAll = (errors: readonly GraphQLError[]): GraphQLFormattedError[] =>
    errors.map((e) => format(e.toJSON(), e));
  // The same checks as over HTTP: query shape limits, and introspection only where allowed.
  const rules = [...specifiedRules, ...limitRules(), ...introspectionRules(opts.introspection)];

  // Subscribers mostly send the same few documents: each text is parsed and validated once, and
  // its subscriptions share one syntax tree (kept as long as they run).
  const checkedDocuments = new Map<string, DocumentNode | GraphQLError[]>();
  const checkDocument = (query: string): DocumentNode | GraphQLError[] => {
    const known = checkedDocuments.get(query);
    if (known) return known;
    let checked: DocumentNode | GraphQLError[];
    try {
      checked = parse(query, { maxTokens: queryLimits.maxTokens });
      const errors = validate(schema, checked, rules);
      if (errors.length > 0) {
        checked = errors.map(
          (e) =>
            new GraphQLError(e.message, {
              nodes: e.nodes ?? null,
              extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
            }),
        );
      }
    } catch (err) {
      // Formatted by onError, like every error sent on the socket; coded as over HTTP.
      const message = err instanceof GraphQLError ? err.message : 'Unparsable query.';
      checked = [new GraphQLError(message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
    }
    checkedDocuments.set(query, checked);
    if (checkedDocuments.size > DOCUMENT_CACHE_SIZE) {
      checkedDocuments.delete(checkedDocuments.keys().next().value!);
    }
    return checked;
  };

  const server = useServer<
    Record<string, unknown>,
    { userId: string; connectionId: string; clientIp: string }
  >(
    {
      schema,
      // Each message event is executed once for all subscribers asking the same thing.
      subscribe: createSharedSubscribe(),
      connectionInitWaitTimeout: opts.connectionInitWaitMs,
      onConnect: async (ctx) => {
        const result = await authenticate(deps, ctx.connectionParams?.['authorization']);
        if ('error' in result) return false; // graphql-ws closes with 4403 Forbidden
        ctx.extra.userId = result.userId;
        ctx.extra.connectionId = randomUUID();
        ctx.extra.clientIp = ctx.extra.request.socket.remoteAddress ?? 'unknown';
        metrics.connections.inc();
        deps.presence
          .connected(result.userId, ctx.extra.connectionId)
          .catch((err: unknown) => logger.warn({ err: String(err) }, 'presence connect failed'));
        return true;
      },
      onDisconnect: (ctx) => {
        if (!ctx.extra.userId || !ctx.extra.connectionId) return;
        metrics.connections.dec();
        deps.presence
          .disconnected(ctx.extra.userId, ctx.extra.connectionId)
          .catch((err: unknown) => logger.warn({ err: String(err) }, 'presence disconnect failed'));
      },
      onSubscribe: (_ctx, _id, payload) => {
        const checked = checkDocument(payload.query);
        if (!('kind' in checked)) return checked;
        const document = checked;
        metrics.subscriptions.inc();
        return {
          schema,
          document,
          operationName: payload.operationName ?? null,
          variableValues: payload.variables ?? null,
        };
      },
      onComplete: () => {
        metrics.subscriptions.dec();
      },
      context: (ctx) =>
        createSubscriptionContext(
          deps,
          ctx.extra.userId!,
          ctx.extra.connectionId ?? randomUUID(),
          ctx.extra.clientIp ?? 'unknown',
          // 1013 "try again later": graphql-ws clients reconnect, and resume from their cursor.
          () => ctx.extra.socket.close(1013, 'Too slow: reconnect and resume'),
        ),
      // The result itself (not graphql-ws's copy of it), so its JSON is made once for all.
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: formatAll(result.errors) } : result,
      jsonMessageReplacer: sharePayload,
      onError: (_ctx, _id, _payload, errors) => formatAll(errors),
    },
    wsServer,
    opts.keepAliveMs,
  );

  return {
    wsServer,
    /** Closes every socket with 1001 "going away" and stops accepting new ones. */
    async dispose() {
      await server.dispose();
    },
  };
}
