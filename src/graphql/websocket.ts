// GraphQL over WebSocket on the HTTP server's /graphql path, in two protocols chosen by the
// Sec-WebSocket-Protocol the client offers: graphql-transport-ws (graphql-ws, today's clients)
// and the legacy subscriptions-transport-ws protocol `graphql-ws` (GraphQL Playground, Apollo
// Client 2), which legacy-websocket.ts translates for the same graphql-ws server core. The
// token travels in connection_init, { "authorization": "Bearer <token>" } (the key in any case:
// IDEs forward their headers pane as `Authorization`), or as an `Authorization: Bearer` header
// of the upgrade request for clients that can set one. Without a valid one the socket closes
// with 4401, and at the token's expiry an open socket closes the same way (see `refuse`);
// without connection_init within a few seconds it closes with 4408.
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import {
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import {
  CloseCode,
  GRAPHQL_TRANSPORT_WS_PROTOCOL,
  makeServer,
  type ServerOptions,
} from 'graphql-ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Deps } from '../domain/context.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { authenticate } from '../domain/auth.js';
import { createSubscriptionContext } from './context.js';
import { createErrorFormatter } from './errors.js';
import { LEGACY_PROTOCOL, useLegacyServer } from './legacy-websocket.js';
import { introspectionRules, limitRules, queryLimits } from './query-limits.js';
import { createSharedSubscribe } from './shared-execution.js';
import { NextFrames } from './shared-frames.js';

const DOCUMENT_CACHE_SIZE = 1_000;

export interface WebSocketOptions {
  maxPayloadBytes: number;
  connectionInitWaitMs: number;
  keepAliveMs: number;
  introspection: boolean;
  hideSchemaDetails: boolean;
}

/** What each connection keeps, once connection_init is accepted. */
interface ConnectionState {
  userId: string;
  connectionId: string;
  clientIp: string;
  /** When the connection's token expires (ms since the epoch); null: never. */
  expiresAt: number | null;
  /** The legacy adapter's way to end a connection for its token (see refuse). */
  refuse: (reason: string) => void;
}

type ConnectionExtra = Extra & Partial<ConnectionState>;

const SESSION_EXPIRED = 'Your session has expired: log in again.';
/** How often open connections are looked at for an expired token. */
const EXPIRY_CHECK_MS = 200;

/**
 * Ends a connection whose token is missing, invalid or expired, with 4401 Unauthorized and the
 * reason. Not graphql-ws's own 4403 Forbidden: its client retries 4403 (five times, about 40 s
 * of backoff with the default settings) before telling the application, but gives up at once
 * on 4401 (a fatal code in its client's shouldRetryConnectOrThrow), so a client learns within
 * a round trip that it must log in again. A second close of a closing socket does nothing, so
 * the core's own 4403 after a refused connection_init never reaches the client.
 */
function refuse(extra: ConnectionExtra, reason: string): void {
  if (extra.refuse) extra.refuse(reason);
  else extra.socket.close(CloseCode.Unauthorized, reason);
}

/** Whether the connection's token has expired (checked before each operation and event). */
function expired(extra: ConnectionExtra): boolean {
  return extra.expiresAt != null && Date.now() >= extra.expiresAt;
}

/**
 * Ends connections whose token expired. One timer for all of them, looking every
 * EXPIRY_CHECK_MS while any connection has a token that expires, instead of a timer and a
 * closure kept by every connection (memory per idle connection is what a chat server holds
 * most of). The check before each operation and event (`expired`) makes the cut exact; this
 * only closes the sockets that stay idle past it.
 */
function createExpiryWatch(onExpired: (extra: ConnectionExtra) => void) {
  const watched = new Set<ConnectionExtra>();
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    const now = Date.now();
    for (const extra of watched) {
      if (extra.expiresAt != null && now >= extra.expiresAt) {
        watched.delete(extra);
        onExpired(extra);
      }
    }
    if (watched.size === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };
  return {
    add(extra: ConnectionExtra) {
      watched.add(extra);
      timer ??= setInterval(check, EXPIRY_CHECK_MS).unref();
    },
    delete(extra: ConnectionExtra) {
      watched.delete(extra);
    },
  };
}

/**
 * The token of a connection: connection_init's `authorization`, whatever the case of its key,
 * else the upgrade request's Authorization header. (Browsers attach no Bearer header to a
 * WebSocket on their own, so accepting the header opens no cross-site hole.)
 */
function authorizationOf(
  params: Readonly<Record<string, unknown>> | undefined,
  request: http.IncomingMessage,
): unknown {
  const key = Object.keys(params ?? {}).find((k) => k.toLowerCase() === 'authorization');
  const param = key === undefined ? undefined : params![key];
  return param === undefined || param === null || param === ''
    ? request.headers.authorization
    : param;
}

/** Whether the upgrade request offers this WebSocket subprotocol. */
function offers(request: http.IncomingMessage, protocol: string): boolean {
  const offered = request.headers['sec-websocket-protocol'];
  return typeof offered === 'string' && offered.split(',').some((p) => p.trim() === protocol);
}

export function attachWebSocketServer(
  httpServer: http.Server,
  schema: GraphQLSchema,
  deps: Deps,
  logger: Logger,
  metrics: Metrics,
  opts: WebSocketOptions,
) {
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

  const expiries = createExpiryWatch((extra) => refuse(extra, SESSION_EXPIRED));

  // What a result is sent as (graphql-ws's onNext), for graphql-ws and for direct delivery: the
  // result itself (so its JSON is made once for all subscribers sharing it), errors formatted.
  const nextPayload = (extra: ConnectionExtra, result: ExecutionResult) => {
    // Like a new operation, no event goes out on a token past its expiry (the socket is
    // closing then, so the send does nothing).
    if (expired(extra)) refuse(extra, SESSION_EXPIRED);
    return result.errors ? { ...result, errors: formatAll(result.errors) } : result;
  };
  // Each subscription's frames, by its context: its events are written straight to its socket.
  const framesByContext = new WeakMap<object, NextFrames<ConnectionExtra>>();

  // One set of hooks for both protocols: the legacy one is translated into this one.
  const options: ServerOptions<Record<string, unknown>, ConnectionExtra> = {
    schema,
    // Each message event is executed once for all subscribers asking the same thing, and
    // written to their sockets without graphql-ws's per-event loop (direct-delivery.ts).
    subscribe: createSharedSubscribe((contextValue) =>
      typeof contextValue === 'object' && contextValue !== null
        ? framesByContext.get(contextValue)
        : undefined,
    ),
    connectionInitWaitTimeout: opts.connectionInitWaitMs,
    onConnect: async (ctx) => {
      const result = await authenticate(
        deps,
        authorizationOf(ctx.connectionParams, ctx.extra.request),
      );
      if ('error' in result) {
        refuse(ctx.extra, result.error.message);
        return false;
      }
      // Closed while its token was checked: graphql-ws has run its close hooks already (and
      // no onDisconnect, unacknowledged), so nothing started now would ever be undone.
      if (ctx.extra.socket.readyState !== ctx.extra.socket.OPEN) return false;
      ctx.extra.userId = result.userId;
      ctx.extra.connectionId = randomUUID();
      ctx.extra.clientIp = ctx.extra.request.socket.remoteAddress ?? 'unknown';
      // A token is checked once, here: without this the socket would outlive it, streaming
      // and taking operations for as long as the client keeps it open.
      ctx.extra.expiresAt = result.expiresAt;
      if (result.expiresAt !== null) expiries.add(ctx.extra);
      metrics.connections.inc();
      deps.presence
        .connected(result.userId, ctx.extra.connectionId)
        .catch((err: unknown) => logger.warn({ err }, 'presence connect failed'));
      return true;
    },
    onClose: (ctx) => {
      expiries.delete(ctx.extra);
    },
    onDisconnect: (ctx) => {
      if (!ctx.extra.userId || !ctx.extra.connectionId) return;
      metrics.connections.dec();
      deps.presence
        .disconnected(ctx.extra.userId, ctx.extra.connectionId)
        .catch((err: unknown) => logger.warn({ err }, 'presence disconnect failed'));
    },
    onSubscribe: (ctx, _id, payload) => {
      // The expiry timer may not have run yet (a busy event loop): nothing runs on a token
      // past its expiry, not even an operation sent in the same millisecond.
      if (expired(ctx.extra)) {
        refuse(ctx.extra, SESSION_EXPIRED);
        return [new GraphQLError(SESSION_EXPIRED, { extensions: { code: 'UNAUTHENTICATED' } })];
      }
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
    context: (ctx, id) => {
      const { socket } = ctx.extra;
      const context = createSubscriptionContext(
        deps,
        ctx.extra.userId!,
        ctx.extra.connectionId ?? randomUUID(),
        ctx.extra.clientIp ?? 'unknown',
        // 1013 "try again later": graphql-ws clients reconnect, and resume from their cursor.
        () => socket.close(1013, 'Too slow: reconnect and resume'),
        (reason) => socket.close(1013, reason),
      );
      const legacy = socket.protocol === LEGACY_PROTOCOL;
      framesByContext.set(context, new NextFrames(ctx.extra, nextPayload, id, legacy));
      return context;
    },
    // Results that graphql-ws sends itself (a query or mutation over the socket).
    onNext: (ctx, _id, _payload, _args, result) => nextPayload(ctx.extra, result),
    onError: (_ctx, _id, _payload, errors) => formatAll(errors),
  };

  // Two socket servers on one path, each completing the handshakes of its protocol: the modern
  // one also takes offers of neither (graphql-ws closes those with 4406, as it always did).
  const socketOptions = {
    noServer: true,
    path: '/graphql',
    maxPayload: opts.maxPayloadBytes,
  };
  const modern = new WebSocketServer(socketOptions);
  const legacy = new WebSocketServer({
    ...socketOptions,
    handleProtocols: (protocols) => (protocols.has(LEGACY_PROTOCOL) ? LEGACY_PROTOCOL : false),
  });
  const onUpgrade = (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const target =
      offers(request, LEGACY_PROTOCOL) && !offers(request, GRAPHQL_TRANSPORT_WS_PROTOCOL)
        ? legacy
        : modern;
    target.handleUpgrade(request, socket, head, (ws) => target.emit('connection', ws, request));
  };
  httpServer.on('upgrade', onUpgrade);

  const modernServer = useServer(options, modern, opts.keepAliveMs);
  const legacyServer = useLegacyServer(makeServer(options), legacy, {
    keepAliveMs: opts.keepAliveMs,
    logger,
  });

  return {
    /** Closes every socket with 1001 "going away" and stops accepting new ones. */
    async dispose() {
      httpServer.off('upgrade', onUpgrade);
      await Promise.all([modernServer.dispose(), legacyServer.dispose()]);
    },
  };
}
