// The typed Parley client: the public contract's operations as typed documents (generated from
// client/operations by graphql-codegen's client preset), on urql over HTTP and graphql-ws for
// subscriptions. messageAdded subscriptions resume after a reconnect (see ws.ts and resume.ts).
import {
  Client,
  CombinedError,
  fetchExchange,
  subscriptionExchange,
  type AnyVariables,
  type OperationResult,
  type TypedDocumentNode,
} from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { resumingClient } from './ws.js';

export * from './gql/graphql.js';
export { queryOverSocket, resumingClient } from './ws.js';

export interface ParleyClientOptions {
  /** The GraphQL endpoint over HTTP, e.g. http://localhost:4000/graphql (or /graphql in a page). */
  url: string;
  /** The token from register/login; omit for those two. */
  token?: string | null;
  /** The WebSocket endpoint; defaults to `url` with ws(s):// (resolved against the page). */
  wsUrl?: string;
  /** A WebSocket implementation where there is no global one (Node 20: `WebSocket` from 'ws'). */
  webSocketImpl?: unknown;
  /** Told when the WebSocket connects (again: `reconnected` true) or closes. */
  onConnectionChange?: (state: 'connected' | 'reconnected' | 'closed') => void;
}

/** A failed operation: `code` is the API's `extensions.code` (NETWORK_ERROR without one). */
export class ParleyError extends Error {
  override name = 'ParleyError';
  constructor(
    message: string,
    readonly code: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface SubscriptionHandlers<TData> {
  next(data: TData): void;
  /** The subscription ended with an error (RESYNC_REQUIRED, NOT_FOUND, a refused token...). */
  error?(error: ParleyError): void;
}

export interface ParleyClient {
  /** The urql client underneath, for framework bindings or exchanges of your own. */
  readonly urql: Client;
  /** The graphql-ws client underneath (one socket, shared by every subscription). */
  readonly ws: WsClient;
  /** Runs a query; resolves with its data or rejects with a ParleyError. */
  query<TData, TVariables extends AnyVariables>(
    document: TypedDocumentNode<TData, TVariables>,
    variables: TVariables,
  ): Promise<TData>;
  /** Runs a mutation; resolves with its data or rejects with a ParleyError. */
  mutate<TData, TVariables extends AnyVariables>(
    document: TypedDocumentNode<TData, TVariables>,
    variables: TVariables,
  ): Promise<TData>;
  /** Starts a subscription; returns the function that stops it. */
  subscribe<TData, TVariables extends AnyVariables>(
    document: TypedDocumentNode<TData, TVariables>,
    variables: TVariables,
    handlers: SubscriptionHandlers<TData>,
  ): () => void;
  /** Closes the WebSocket; the client is not used afterwards. */
  dispose(): Promise<void>;
}

function toParleyError(error: CombinedError | unknown): ParleyError {
  if (error instanceof CombinedError) {
    const first = error.graphQLErrors[0];
    if (first) {
      const code = typeof first.extensions['code'] === 'string' ? first.extensions['code'] : '';
      return new ParleyError(first.message, code || 'INTERNAL_SERVER_ERROR', first.extensions);
    }
    return new ParleyError(error.networkError?.message ?? error.message, 'NETWORK_ERROR');
  }
  return new ParleyError(error instanceof Error ? error.message : String(error), 'NETWORK_ERROR');
}

function unwrap<TData>(result: OperationResult<TData>): TData {
  if (result.error) throw toParleyError(result.error);
  if (result.data === undefined || result.data === null) {
    throw new ParleyError('The server answered without data.', 'INTERNAL_SERVER_ERROR');
  }
  return result.data;
}

function defaultWsUrl(url: string): string {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  const resolved = new URL(url, base);
  resolved.protocol = resolved.protocol === 'https:' ? 'wss:' : 'ws:';
  return resolved.toString();
}

export function createParleyClient(options: ParleyClientOptions): ParleyClient {
  const authorization = options.token ? `Bearer ${options.token}` : undefined;
  const ws = createWsClient({
    url: options.wsUrl ?? defaultWsUrl(options.url),
    ...(options.webSocketImpl ? { webSocketImpl: options.webSocketImpl } : {}),
    connectionParams: authorization ? { authorization } : {},
    // Reconnect after any close for as long as it takes (a server restart, a laptop waking up);
    // graphql-ws still ends subscriptions on protocol errors it deems fatal. Its own backoff
    // doubles without a cap; a chat should be back within half a minute of the network.
    retryAttempts: Infinity,
    // graphql-ws retries only after a close event by default: a reconnect that fails with an
    // error event (the server still down: connection refused) would end every subscription.
    // Fatal close codes are still thrown before this is asked.
    shouldRetry: () => true,
    retryWait: (retries) =>
      new Promise((resolve) =>
        setTimeout(resolve, Math.min(30_000, 500 * 2 ** retries) + Math.random() * 500),
      ),
    on: {
      connected: (_socket, _payload, wasRetry) =>
        options.onConnectionChange?.(wasRetry ? 'reconnected' : 'connected'),
      closed: () => options.onConnectionChange?.('closed'),
    },
  });

  const urql = new Client({
    url: options.url,
    // urql's default: short queries as GET (the server accepts a GET that carries a token).
    requestPolicy: 'network-only',
    fetchOptions: (): RequestInit => ({
      headers: authorization ? { authorization } : ({} as Record<string, string>),
    }),
    exchanges: [
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe(sink) {
            const payload = { ...request, query: request.query ?? '' };
            return { unsubscribe: resuming.subscribe(payload, sink as never) };
          },
        }),
      }),
      fetchExchange,
    ],
  });

  // Catch-up queries go over HTTP, like every other query of this client.
  const resuming = resumingClient(ws, async (query, variables) => {
    const result = await urql.query(query, variables).toPromise();
    if (result.error && result.error.graphQLErrors.length === 0) throw toParleyError(result.error);
    return {
      data: (result.data ?? null) as Record<string, unknown> | null,
      ...(result.error
        ? {
            errors: result.error.graphQLErrors.map((e) => ({
              message: e.message,
              extensions: e.extensions,
            })),
          }
        : {}),
    };
  });

  return {
    urql,
    ws,
    query: async (document, variables) => unwrap(await urql.query(document, variables).toPromise()),
    mutate: async (document, variables) =>
      unwrap(await urql.mutation(document, variables).toPromise()),
    subscribe(document, variables, handlers) {
      let ended = false;
      const { unsubscribe } = urql.subscription(document, variables).subscribe((result) => {
        if (ended) return;
        if (result.error) {
          ended = true;
          handlers.error?.(toParleyError(result.error));
          return;
        }
        if (result.data) handlers.next(result.data);
      });
      return () => {
        ended = true;
        unsubscribe();
      };
    },
    dispose: async () => {
      await ws.dispose();
    },
  };
}
