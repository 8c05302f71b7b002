// The legacy subscriptions-transport-ws client (the one GraphQL Playground and Apollo Client 2
// use, WebSocket subprotocol `graphql-ws`), on `ws`. Its socket class is a `ws` WebSocket that
// sends the given upgrade headers and records the close codes it sees (the client itself does
// not report them).
import { SubscriptionClient } from 'subscriptions-transport-ws';
import WebSocket from 'ws';
import { collect, type Received } from './ws.js';

export interface LegacyClient {
  readonly client: SubscriptionClient;
  /** The close code of each of its sockets, in order. */
  readonly closeCodes: number[];
  /** The payload of each connection_error, in order (also after connection_ack). */
  readonly connectionErrors: unknown[];
  /** Resolves once connection_init was acknowledged; rejects with connection_error's payload. */
  readonly acknowledged: Promise<void>;
  /** Resolves with the close code of its first socket once that socket closes. */
  readonly closed: Promise<number>;
  /** Runs a query, mutation or subscription over the socket and collects what it yields. */
  request<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    pick?: (data: Record<string, unknown>) => T,
  ): Received<T>;
  close(): void;
}

export function connectLegacy(
  url: string,
  opts: {
    /** connection_init's payload, or a function returning it (as the client allows). */
    connectionParams?: Record<string, unknown> | (() => Promise<Record<string, unknown>>);
    /** Headers of the upgrade request. */
    headers?: Record<string, string>;
  } = {},
): LegacyClient {
  const closeCodes: number[] = [];
  const connectionErrors: unknown[] = [];
  let onClose: (code: number) => void = () => undefined;
  const closed = new Promise<number>((resolve) => (onClose = resolve));
  class RecordingWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers: opts.headers ?? {} });
      this.on('close', (code) => {
        closeCodes.push(code);
        onClose(code);
        // Settled already when acknowledged or refused with connection_error.
        settle?.reject(new Error(`closed with ${code} before connection_ack`));
      });
    }
  }
  let settle: { resolve(): void; reject(err: unknown): void } | undefined;
  const acknowledged = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  // Unobserved when a test only looks at the close code.
  acknowledged.catch(() => undefined);
  const client = new SubscriptionClient(
    url,
    {
      connectionParams: opts.connectionParams ?? {},
      reconnect: false,
      connectionCallback: (error: unknown) => {
        if (!error) return settle?.resolve();
        connectionErrors.push(error);
        settle?.reject(error);
      },
    },
    RecordingWebSocket,
  );
  return {
    client,
    closeCodes,
    connectionErrors,
    acknowledged,
    closed,
    request<T>(
      query: string,
      variables: Record<string, unknown> = {},
      pick: (data: Record<string, unknown>) => T = (d) => Object.values(d)[0] as T,
    ) {
      const { received, sink } = collect(pick, () => subscription.unsubscribe());
      const subscription = client.request({ query, variables }).subscribe(sink);
      return received;
    },
    close: () => client.close(),
  };
}
