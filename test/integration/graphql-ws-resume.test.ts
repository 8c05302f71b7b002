// Resuming messageAdded with a stock graphql-ws client. On a reconnect graphql-ws sends each
// subscription's payload object again, as it is: with the `after` it started with, the server
// replays everything since then (duplicates). The recipe keeps one payload object per
// subscription and moves its `variables.after` to the cursor of each message delivered, so the
// server resumes right after the last one received. The server cuts the socket mid-stream while
// messages keep being sent; the recipe gets every message once, in order.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployments, ok, registerUser, startApp, type TestApp } from '../support/app.js';

interface Delivered {
  seq: number;
  body: string;
  cursor: string;
}

const MESSAGE_ADDED = `subscription ($conversationId: ID, $after: String) {
  messageAdded(conversationId: $conversationId, after: $after) { seq body cursor }
}`;

/** The recipe: the same payload object every time, its `after` following each delivery. */
function followConversation(
  client: Client,
  conversationId: string,
  after: string | null,
  onMessage: (message: Delivered) => void,
  onError: (error: unknown) => void,
): () => void {
  const payload = { query: MESSAGE_ADDED, variables: { conversationId, after } };
  return client.subscribe<{ messageAdded: Delivered }>(payload, {
    next: ({ data }) => {
      if (!data) return;
      payload.variables.after = data.messageAdded.cursor;
      onMessage(data.messageAdded);
    },
    error: onError,
    complete: () => undefined,
  });
}

/** Messages as they arrive, and a way to wait until some condition on them holds. */
function inbox() {
  const items: Delivered[] = [];
  const errors: unknown[] = [];
  let wake = () => {};
  return {
    items,
    bodies: () => items.map((m) => m.body),
    push(message: Delivered) {
      items.push(message);
      wake();
    },
    fail(error: unknown) {
      errors.push(error);
      wake();
    },
    until(predicate: () => boolean): Promise<void> {
      return new Promise((resolve, reject) => {
        wake = () => {
          if (errors.length > 0) reject(new Error(`subscription failed: ${String(errors[0])}`));
          else if (predicate()) resolve();
        };
        wake();
      });
    },
  };
}

describe.each(deployments())(
  'graphql-ws resume recipe on $name',
  ({ backend, redisUrl, available }) => {
    let app: TestApp;
    beforeAll(async () => {
      if (available) app = await startApp(backend, redisUrl ? { redisUrl } : {});
    });
    afterAll(async () => app?.close());

    it.skipIf(!available)(
      'moving `after` with each delivery: every message once, in order, across server-side disconnects',
      async () => {
        const [ann, bob] = await Promise.all([registerUser(app, 'Ann'), registerUser(app, 'Bob')]);
        const conversationId = ok(
          await app.gql<{ sendMessage: { conversationId: string } }>(
            `mutation($input: SendMessageInput!) { sendMessage(input: $input) { conversationId } }`,
            { input: { toPhone: bob.phone, body: 'before' } },
            ann.token,
          ),
        ).sendMessage.conversationId;
        const start = ok(
          await app.gql<{ messages: { pageInfo: { endCursor: string } } }>(
            `query($id: ID!) { messages(conversationId: $id, last: 1) { pageInfo { endCursor } } }`,
            { id: conversationId },
            bob.token,
          ),
        ).messages.pageInfo.endCursor;
        const send = async (body: string) =>
          ok(
            await app.gql(
              `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
              { input: { conversationId, body } },
              ann.token,
            ),
          );

        let connects = 0;
        const client = createClient({
          url: app.wsUrl,
          webSocketImpl: WebSocket,
          connectionParams: { authorization: `Bearer ${bob.token}` },
          retryAttempts: Infinity,
          retryWait: () => new Promise((resolve) => setTimeout(resolve, 50)),
          on: { connected: () => (connects += 1) },
        });
        try {
          const recipe = inbox();
          followConversation(client, conversationId, start, recipe.push, recipe.fail);
          // For contrast: the payload as it started, sent again unchanged on every reconnect.
          const fixed = inbox();
          client.subscribe<{ messageAdded: Delivered }>(
            { query: MESSAGE_ADDED, variables: { conversationId, after: start } },
            {
              next: ({ data }) => data && fixed.push(data.messageAdded),
              error: fixed.fail,
              complete: () => undefined,
            },
          );

          const sent = Array.from({ length: 30 }, (_, i) => `m${i + 1}`);
          for (const body of sent.slice(0, 10)) await send(body);
          await recipe.until(() => recipe.items.length === 10);
          await fixed.until(() => fixed.items.length === 10);
          expect(app.dropWebSockets()).toBe(1);
          // Sending goes on while the client reconnects; the server cuts it off again midway,
          // whatever it has received by then.
          for (const body of sent.slice(10, 20)) await send(body);
          app.dropWebSockets();
          for (const body of sent.slice(20)) await send(body);

          await recipe.until(() => recipe.bodies().includes('m30'));
          expect(recipe.bodies()).toEqual(sent);
          const seqs = recipe.items.map((m) => m.seq);
          expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
          expect(connects).toBeGreaterThanOrEqual(2);

          // The unchanged payload replayed what it already had after each reconnect.
          await fixed.until(() => fixed.bodies().includes('m30'));
          expect(new Set(fixed.bodies())).toEqual(new Set(sent));
          expect(fixed.items.length).toBeGreaterThanOrEqual(sent.length + 10);
        } finally {
          await client.dispose();
        }
      },
    );
  },
);
