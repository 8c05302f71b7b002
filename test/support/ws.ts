// A graphql-ws client as front ends use it, with helpers to collect what a subscription yields.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface Received<T> {
  /** Every `next` payload's data, in arrival order. */
  readonly items: T[];
  /** Errors of `next` payloads or the `error` message. */
  readonly errors: { message: string; extensions?: Record<string, unknown> }[];
  completed: boolean;
  /** Resolves once `predicate(items)` holds; rejects after `timeoutMs`. */
  until(predicate: (items: T[]) => boolean, timeoutMs?: number): Promise<T[]>;
  /** Resolves once the subscription has ended (complete or error). */
  ended(timeoutMs?: number): Promise<void>;
  stop(): void;
}

export function connect(
  url: string,
  token?: string,
  opts: {
    lazy?: boolean;
    /** connection_init's payload (default: `{ authorization: "Bearer <token>" }`). */
    connectionParams?: Record<string, unknown>;
    /** Headers of the upgrade request. */
    headers?: Record<string, string>;
  } = {},
): Client {
  const headers = opts.headers;
  return createClient({
    url,
    webSocketImpl: headers
      ? class extends WebSocket {
          constructor(address: string, protocols?: string | string[]) {
            super(address, protocols, { headers });
          }
        }
      : WebSocket,
    lazy: opts.lazy ?? true,
    retryAttempts: 0,
    connectionParams: opts.connectionParams ?? (token ? { authorization: `Bearer ${token}` } : {}),
  });
}

/**
 * What a subscription yields, collected by the observer it returns (`sink`): the shape both the
 * graphql-ws client and the legacy subscriptions-transport-ws client (legacy-ws.ts) call.
 */
export function collect<T>(
  pick: (data: Record<string, unknown>) => T,
  onStop: () => void,
): {
  received: Received<T>;
  sink: {
    next(result: { data?: unknown; errors?: readonly unknown[] }): void;
    error(err: unknown): void;
    complete(): void;
  };
} {
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((w) => w());
  const received: Received<T> = {
    items: [],
    errors: [],
    completed: false,
    until(predicate, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (predicate(received.items)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(received.items);
          } else if (received.completed) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(
              new Error(
                `subscription ended early with ${received.items.length} items; errors: ${JSON.stringify(received.errors)}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `timed out with ${received.items.length} items; errors: ${JSON.stringify(received.errors)}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    ended(timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (received.completed) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error('subscription did not end'));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    stop: () => onStop(),
  };
  const sink = {
    next: (result: { data?: unknown; errors?: readonly unknown[] }) => {
      if (result.errors) received.errors.push(...(result.errors as Received<T>['errors']));
      if (result.data) received.items.push(pick(result.data as Record<string, unknown>));
      notify();
    },
    error: (err: unknown) => {
      if (Array.isArray(err)) received.errors.push(...(err as Received<T>['errors']));
      else if (err && typeof err === 'object' && 'code' in err) {
        const close = err as { code: number; reason: string };
        received.errors.push({ message: close.reason, extensions: { closeCode: close.code } });
      } else if (err && typeof err === 'object' && 'message' in err) {
        // The legacy client hands on the first GraphQL error of an `error` message.
        received.errors.push(err as Received<T>['errors'][number]);
      } else received.errors.push({ message: String(err) });
      received.completed = true;
      notify();
    },
    complete: () => {
      received.completed = true;
      notify();
    },
  };
  return { received, sink };
}

export function subscribe<T>(
  client: Client,
  query: string,
  variables: Record<string, unknown> = {},
  pick: (data: Record<string, unknown>) => T = (d) => Object.values(d)[0] as T,
): Received<T> {
  const { received, sink } = collect(pick, () => unsubscribe());
  const unsubscribe = client.subscribe<Record<string, unknown>>({ query, variables }, sink);
  return received;
}

/**
 * A subscription without replay is live a few ms after it is requested. Triggers an event
 * repeatedly until the first one arrives (each wait bounded), so that what follows is known to
 * be observed.
 */
export async function probe<T>(
  received: Received<T>,
  trigger: (attempt: number) => Promise<unknown>,
  ready: (items: T[]) => boolean = (items) => items.length > 0,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    await trigger(attempt);
    try {
      await received.until(ready, 250);
      return;
    } catch (err) {
      if (received.completed || Date.now() > deadline) throw err;
    }
  }
}
