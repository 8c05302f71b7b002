// A graphql-ws client whose messageAdded subscriptions resume after a reconnect, for libraries
// that take a graphql-ws client (Apollo's GraphQLWsLink, urql's subscriptionExchange) or plain use.
//
// graphql-ws sends a subscription's payload object again, as it is, on every reconnect. With the
// `after` it started with, messageAdded would replay everything since then (duplicates); without
// one, it would miss what was sent while the socket was down. The returned client gives each
// subscription a payload of its own whose `after` follows the newest message delivered (the
// server then replays exactly what was missed), and catches up the every-conversation stream
// with `messages` queries (see resume.ts). Other operations pass through unchanged (and so does
// `iterate`, which does not resume).
import type { Client, FormattedExecutionResult } from 'graphql-ws';
import { createResumer, type QueryRunner } from './resume.js';

type Result = FormattedExecutionResult<Record<string, unknown>, unknown>;

/** Runs a query over the graphql-ws socket itself (the server answers queries there too). */
export function queryOverSocket(ws: Client): QueryRunner {
  return (query, variables) =>
    new Promise((resolve, reject) => {
      let result: Result | undefined;
      ws.subscribe<Record<string, unknown>>(
        { query, variables },
        {
          next: (value) => (result = value),
          error: reject,
          complete: () =>
            result ? resolve(result) : reject(new Error('The query ended without a result.')),
        },
      );
    });
}

/**
 * `ws` with resuming messageAdded subscriptions. Catch-up queries go over the same socket unless
 * `runQuery` runs them elsewhere (over HTTP, say).
 */
export function resumingClient(ws: Client, runQuery: QueryRunner = queryOverSocket(ws)): Client {
  const resumer = createResumer(ws, runQuery);
  return {
    ...ws,
    subscribe(payload, sink) {
      // A payload of its own (the caller's may be shared or frozen): its `after` moves.
      const own = { ...payload, variables: { ...payload.variables } };
      const tracked = resumer.track(own, sink as never);
      const unsubscribe = ws.subscribe(own, tracked.sink);
      return () => {
        tracked.stop();
        unsubscribe();
      };
    },
  };
}
