// A token's expiry holds on an open WebSocket, on both deployments and both protocols: the
// server closes the socket at the expiry with 4401, delivers no event and runs no operation
// after it, and a stock graphql-ws client with its default retries learns of a bad or expired
// token at once instead of after ~40 s of retrying. Tokens here live 2–3 s (JWT_EXPIRES_IN=3s:
// `exp` is whole seconds after the issuing second).
import { performance } from 'node:perf_hooks';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import {
  deployments,
  ok,
  registerUser,
  startApp,
  type TestApp,
  type TestUser,
} from '../support/app.js';
import { connectLegacy, type LegacyClient } from '../support/legacy-ws.js';
import { connect, subscribe } from '../support/ws.js';

const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { token } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id conversationId } }`;
const ADDED = `subscription($id: ID) { messageAdded(conversationId: $id) { body } }`;
const BODIES = `query($id: ID!) { messages(conversationId: $id, last: 100) { edges { node { body } } } }`;
const EXPIRED = 'Your session has expired: log in again.';

interface Session {
  token: string;
  /** When the token expires (ms since the epoch), read from its `exp`. */
  expiresAt: number;
}

/** An event as it arrived, with the time it did. */
interface Arrival {
  body: string;
  at: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(deployments())(
  'a token expiring on an open WebSocket, on $name',
  ({ backend, redisUrl, available }) => {
    let app: TestApp;
    const clients: Client[] = [];
    const legacyClients: LegacyClient[] = [];
    beforeAll(async () => {
      if (!available) return;
      app = await startApp(backend, {
        ...(redisUrl ? { redisUrl } : {}),
        env: { JWT_EXPIRES_IN: '3s' },
      });
    });
    afterEach(() => vi.useRealTimers());
    afterAll(async () => {
      legacyClients.forEach((c) => c.close());
      await Promise.all(clients.map((c) => c.dispose()));
      await app?.close();
    });

    /** A new token for the user (their registration's soon expires). */
    const login = async (user: TestUser): Promise<Session> => {
      const { login } = ok(
        await app.gql<{ login: { token: string } }>(LOGIN, {
          input: { phone: user.phone, password: 'correct horse battery' },
        }),
      );
      const claims = JSON.parse(
        Buffer.from(login.token.split('.')[1]!, 'base64url').toString(),
      ) as { exp: number };
      return { token: login.token, expiresAt: claims.exp * 1000 };
    };
    const send = async (token: string, input: Record<string, unknown>) =>
      ok(
        await app.gql<{ sendMessage: { id: string; conversationId: string } }>(
          SEND,
          { input },
          token,
        ),
      ).sendMessage;
    /** The bodies stored in a conversation, read with a fresh token. */
    const storedBodies = async (user: TestUser, conversationId: string) => {
      const { token } = await login(user);
      const { messages } = ok(
        await app.gql<{ messages: { edges: { node: { body: string } }[] } }>(
          BODIES,
          { id: conversationId },
          token,
        ),
      );
      return messages.edges.map((e) => e.node.body);
    };
    async function chat() {
      const [a, b] = await Promise.all([registerUser(app, 'A'), registerUser(app, 'B')]);
      const { conversationId } = await send(a.token, { toPhone: b.phone, body: 'hello' });
      return { a, b, id: conversationId };
    }
    /** The stock client as the README configures it, with its default retries (5, ~40 s). */
    const stockClient = (token: () => string) => {
      const c = createClient({
        url: app.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: () => ({ authorization: `Bearer ${token()}` }),
      });
      clients.push(c);
      return c;
    };

    it.skipIf(!available)(
      'closes the socket at the expiry with 4401 and delivers no event after it',
      async () => {
        const { a, b, id } = await chat();
        const session = await login(b);
        const sub = subscribe<Arrival>(connect(app.wsUrl, session.token), ADDED, { id }, (d) => ({
          ...(d['messageAdded'] as { body: string }),
          at: Date.now(),
        }));
        // A keeps talking, across the expiry of B's token, with tokens of its own that last.
        let sender = await login(a);
        let sent = 0;
        const sentAt = new Map<string, number>();
        let talking = true;
        const talk = (async () => {
          while (talking) {
            if (sender.expiresAt - Date.now() < 1_500) sender = await login(a);
            const body = `m${++sent}`;
            sentAt.set(body, Date.now());
            await send(sender.token, { conversationId: id, body });
            await sleep(50);
          }
        })();
        await sub.until((items) => items.length > 0);

        await sub.ended(session.expiresAt - Date.now() + 1_000);
        const closedAt = Date.now();
        await sleep(500); // what was sent meanwhile would have arrived by now
        talking = false;
        await talk;

        expect(sub.errors).toEqual([{ message: EXPIRED, extensions: { closeCode: 4401 } }]);
        expect(closedAt).toBeGreaterThanOrEqual(session.expiresAt);
        expect(closedAt - session.expiresAt).toBeLessThan(500);
        // No message sent after the expiry reaches B. (Arrival times can't tell: a frame the server
        // wrote just before the expiry may be read by the client in the same millisecond.)
        expect(sub.items.filter((e) => sentAt.get(e.body)! >= session.expiresAt)).toEqual([]);
        expect(sub.items.filter((e) => e.at >= session.expiresAt + 100)).toEqual([]);
        // The talk went on past the close: what B missed is stored, to be read with a new token.
        const missed = sub.items.length;
        expect(sent).toBeGreaterThan(missed);
        expect((await storedBodies(b, id)).length).toBe(1 + sent);
      },
    );

    it.skipIf(!available)(
      'refuses an operation sent after the expiry, even before the socket is closed for it',
      async () => {
        const { a, b, id } = await chat();
        const session = await login(b);
        const socket = new WebSocket(app.wsUrl, 'graphql-transport-ws');
        const received: { type: string }[] = [];
        const closed = new Promise<{ code: number; reason: string }>((resolve) =>
          socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
        );
        await new Promise((resolve) => socket.once('open', resolve));
        const acknowledged = new Promise((resolve) =>
          socket.on('message', (data: Buffer) => {
            const message = JSON.parse(String(data)) as { type: string };
            received.push(message);
            if (message.type === 'connection_ack') resolve(undefined);
          }),
        );
        socket.send(
          JSON.stringify({
            type: 'connection_init',
            payload: { authorization: `Bearer ${session.token}` },
          }),
        );
        await acknowledged;

        // The server's clock passes the expiry while its timer still waits (the timer runs on
        // the real, monotonic time): the operation itself must be refused.
        const realLeft = session.expiresAt - Date.now();
        const start = performance.now();
        vi.useFakeTimers({ toFake: ['Date'] });
        vi.setSystemTime(session.expiresAt + 1);
        socket.send(
          JSON.stringify({
            id: '1',
            type: 'subscribe',
            payload: { query: SEND, variables: { input: { conversationId: id, body: 'late' } } },
          }),
        );
        const close = await closed;
        const closedAfter = performance.now() - start;
        vi.useRealTimers();

        expect(close).toEqual({ code: 4401, reason: EXPIRED });
        expect(closedAfter).toBeLessThan(realLeft);
        expect(received.map((m) => m.type)).toEqual(['connection_ack']);
        expect(await storedBodies(a, id)).toEqual(['hello']);
      },
    );

    it.skipIf(!available)(
      'a stock graphql-ws client (default retries) learns of a bad or expired token within 2 s',
      async () => {
        const { a, b, id } = await chat();
        const session = await login(b);
        await sleep(session.expiresAt - Date.now());
        const cases = [
          { token: 'not-a-token', reason: 'Invalid token: log in again.' },
          { token: session.token, reason: EXPIRED },
        ];
        for (const { token, reason } of cases) {
          let current = token;
          const client = stockClient(() => current);
          const start = performance.now();
          const sub = subscribe(client, ADDED, { id });
          await sub.ended(2_000);
          expect(performance.now() - start).toBeLessThan(2_000);
          expect(sub.errors).toEqual([{ message: reason, extensions: { closeCode: 4401 } }]);
          // Logged in again, the same client subscribes with the new token.
          current = (await login(b)).token;
          const again = subscribe<{ body: string }>(client, ADDED, { id });
          await sleep(300); // subscribed
          await send((await login(a)).token, { conversationId: id, body: `again ${reason}` });
          expect(await again.until((items) => items.length > 0)).toEqual([
            { body: `again ${reason}` },
          ]);
          again.stop();
        }
        // The legacy client is told in connection_error, then closed the same way.
        const refused = connectLegacy(app.wsUrl, {
          connectionParams: { authorization: `Bearer ${session.token}` },
        });
        legacyClients.push(refused);
        await expect(refused.acknowledged).rejects.toEqual({ message: EXPIRED });
        expect(await refused.closed).toBe(4401);
      },
    );

    it.skipIf(!available)(
      'closes a legacy socket at the expiry, telling the reason in connection_error',
      async () => {
        const { a, b, id } = await chat();
        const session = await login(b);
        const client = connectLegacy(app.wsUrl, {
          connectionParams: { authorization: `Bearer ${session.token}` },
        });
        legacyClients.push(client);
        await client.acknowledged;
        const sub = client.request<Arrival>(ADDED, { id }, (d) => ({
          ...(d['messageAdded'] as { body: string }),
          at: Date.now(),
        }));
        await sleep(200); // subscribed
        await send((await login(a)).token, { conversationId: id, body: 'before' });
        await sub.until((items) => items.length > 0);

        expect(await client.closed).toBe(4401);
        const closedAt = Date.now();
        await send((await login(a)).token, { conversationId: id, body: 'after' });
        await sleep(500);

        expect(closedAt).toBeGreaterThanOrEqual(session.expiresAt);
        expect(closedAt - session.expiresAt).toBeLessThan(500);
        expect(client.connectionErrors).toEqual([{ message: EXPIRED }]);
        expect(sub.items.map((e) => e.body)).toEqual(['before']);
      },
    );
  },
);
