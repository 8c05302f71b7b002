// The legacy subscriptions-transport-ws protocol (WebSocket subprotocol `graphql-ws`), spoken by
// GraphQL Playground, Apollo Client 2's WebSocketLink and older mobile clients. It is not a
// second GraphQL server: every legacy socket is translated, message by message, into
// graphql-transport-ws and handed to the same graphql-ws server core (makeServer, built from
// the same options as the modern path in websocket.ts), so authentication, limits, shared
// execution, error masking and close codes are the very same code for both protocols.
//
//   client → core   connection_init → connection_init, start → subscribe, stop → complete;
//                   connection_terminate closes the socket (1000)
//   core → client   connection_ack → connection_ack, then `ka` every keep-alive period;
//                   next → data, error → error, complete → complete; a connection refused for
//                   its token (at connection_init, or when the token expires) gets
//                   connection_error with the reason just before the 4401 close (`refuse`)
//
// Legacy clients send `start` right after connection_init, without waiting for the ack (the
// graphql-ws core would close such a socket with 4401): starts wait here for the ack.
import type http from 'node:http';
import { CloseCode, type Server, type WebSocket as ProtocolSocket } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../logger.js';

export const LEGACY_PROTOCOL = 'graphql-ws';

/** What the core's hooks see of a legacy connection: the same as graphql-ws/use/ws gives them. */
export interface LegacyExtra {
  readonly socket: WebSocket;
  readonly request: http.IncomingMessage;
  /**
   * Ends the connection for its token (missing, invalid or expired): the legacy protocol tells
   * the reason in connection_error, which its clients hand to their connectionCallback.
   */
  readonly refuse: (reason: string) => void;
}

// Legacy clients close a connection that sent no `ka` within their timeout (20 s in Playground,
// 30 s by default in subscriptions-transport-ws), whatever the server's own keep-alive setting.
const MAX_KEEP_ALIVE_MS = 10_000;

interface Message {
  type?: unknown;
  id?: unknown;
  payload?: unknown;
}

/** Serves the legacy protocol on `wss` through the graphql-ws core `server`. */
export function useLegacyServer(
  server: Server<LegacyExtra>,
  wss: WebSocketServer,
  opts: { keepAliveMs: number; logger: Logger },
): { dispose(): Promise<void> } {
  wss.on('connection', (socket: WebSocket, request: http.IncomingMessage) => {
    const legacy = translate(socket, opts.logger);
    const extra: LegacyExtra = { socket, request, refuse: legacy.refuse };
    socket.once('error', () =>
      socket.close(CloseCode.InternalServerError, 'Internal server error'),
    );
    const stopBeating = heartbeat(socket, opts.keepAliveMs, legacy.keepAlive);
    const closed = server.opened(legacy.socket, extra);
    socket.once('close', (code: number, reason: Buffer) => {
      stopBeating();
      void closed(code, String(reason));
    });
  });
  return {
    /** Closes every legacy socket with 1001 "going away" and stops accepting new ones. */
    async dispose() {
      for (const client of wss.clients) client.close(1001, 'Going away');
      wss.removeAllListeners('connection');
      await new Promise<void>((resolve, reject) =>
        wss.close((err) => (err ? reject(err) : resolve())),
      );
    },
  };
}

/** The legacy socket as the graphql-ws core sees it (graphql-transport-ws messages). */
function translate(socket: WebSocket, logger: Logger) {
  let toCore: ((data: string) => Promise<void>) | undefined;
  let acknowledged = false;
  const waitingForAck: Message[] = [];

  const send = (frame: string) =>
    new Promise<void>((resolve, reject) => {
      if (socket.readyState !== socket.OPEN) return resolve();
      socket.send(frame, (err) => (err ? reject(err) : resolve()));
    });

  // The core's promise for a message lasts as long as its operation: not awaited here.
  const pass = (message: Message) => {
    toCore?.(JSON.stringify(message)).catch((err: unknown) => {
      logger.error({ err }, 'legacy websocket message failed');
      socket.close(CloseCode.InternalServerError, 'Internal server error');
    });
  };

  const received = (data: string) => {
    let message: Message;
    try {
      message = JSON.parse(data) as Message;
      if (typeof message !== 'object' || message === null) throw new Error('not an object');
    } catch {
      socket.close(CloseCode.BadRequest, 'Invalid message received');
      return;
    }
    switch (message.type) {
      case 'connection_init':
        return pass({ type: 'connection_init', payload: message.payload });
      case 'start': {
        const subscribe = { type: 'subscribe', id: message.id, payload: message.payload };
        if (acknowledged) pass(subscribe);
        else waitingForAck.push(subscribe);
        return;
      }
      case 'stop': {
        const waiting = waitingForAck.findIndex((m) => m.id === message.id);
        if (waiting >= 0) waitingForAck.splice(waiting, 1);
        else pass({ type: 'complete', id: message.id });
        return;
      }
      case 'connection_terminate':
        socket.close(1000, 'Normal Closure');
        return;
      default:
        socket.close(CloseCode.BadRequest, 'Invalid message received');
    }
  };

  const protocolSocket: ProtocolSocket = {
    // The core speaks graphql-transport-ws to this adapter.
    protocol: 'graphql-transport-ws',
    send(data) {
      // A subscription's events do not pass here: they are written to the socket as legacy
      // `data` frames directly (direct-delivery.ts); a query's or mutation's one result does.
      const message = JSON.parse(data) as Message;
      switch (message.type) {
        case 'connection_ack': {
          acknowledged = true;
          const sent = send(JSON.stringify({ type: 'connection_ack' }));
          void send(JSON.stringify({ type: 'ka' }));
          waitingForAck.splice(0).forEach(pass);
          return sent;
        }
        case 'next':
          return send(JSON.stringify({ type: 'data', id: message.id, payload: message.payload }));
        case 'error':
          return send(JSON.stringify({ type: 'error', id: message.id, payload: message.payload }));
        case 'complete':
          return send(JSON.stringify({ type: 'complete', id: message.id }));
        default:
          return; // pong: legacy clients never ping
      }
    },
    close(code, reason) {
      socket.close(code, reason);
    },
    onMessage(cb) {
      toCore = cb;
      socket.on('message', (data: Buffer) => received(String(data)));
    },
  };

  return {
    socket: protocolSocket,
    refuse(reason: string) {
      void send(JSON.stringify({ type: 'connection_error', payload: { message: reason } }));
      socket.close(CloseCode.Unauthorized, reason);
    },
    /** The `ka` message, once the connection is acknowledged. */
    keepAlive: () => {
      if (acknowledged) void send(JSON.stringify({ type: 'ka' }));
    },
  };
}

/**
 * Every period: `beat()` and a ping; a socket that does not answer the ping within a period is
 * dropped (as graphql-ws/use/ws does for the modern protocol). Returns the stop function.
 */
function heartbeat(socket: WebSocket, keepAliveMs: number, beat: () => void): () => void {
  if (!(keepAliveMs > 0 && Number.isFinite(keepAliveMs))) return () => undefined;
  const period = Math.min(keepAliveMs, MAX_KEEP_ALIVE_MS);
  let pongWait: NodeJS.Timeout | undefined;
  const timer = setInterval(() => {
    if (socket.readyState !== socket.OPEN) return;
    beat();
    pongWait = setTimeout(() => socket.terminate(), period);
    socket.once('pong', () => clearTimeout(pongWait));
    socket.ping();
  }, period);
  return () => {
    clearInterval(timer);
    clearTimeout(pongWait);
  };
}
