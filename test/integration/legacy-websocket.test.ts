// The legacy subscriptions-transport-ws protocol (subprotocol `graphql-ws`: GraphQL Playground,
// Apollo Client 2, older mobile apps) with its own client, on both deployments: the same
// authentication, limits, resume, shared execution and close codes as graphql-transport-ws.
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq conversationId cursor } }`;
const ADDED = `subscription($id: ID, $after: String) { messageAdded(conversationId: $id, after: $after) { seq body sender { displayName } } }`;
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

interface Sent {
  id: string;
  seq: number;
  conversationId: string;
  cursor: string;
}
interface Added {
  seq: number;
  body: string;
  status?: string;
  sender: { displayName: string };
}

describe.each(deployments())(
  'the legacy WebSocket protocol on $name',
  ({ backend, redisUrl, available }) => {
    let app: TestApp | undefined;
    const legacyClients: LegacyClient[] = [];
    const clients: Client[] = [];
    beforeAll(async () => {
      if (!available) return;
      app = await startApp(backend, {
        ...(redisUrl ? { redisUrl } : {}),
        env: { WS_INIT_TIMEOUT_MS: '500' },
      });
    });
    afterAll(async () => {
      legacyClients.forEach((c) => c.close());
      await Promise.all(clients.map((c) => c.dispose()));
      await app?.close();
    });

    const legacy = (opts: Parameters<typeof connectLegacy>[1]) => {
      const c = connectLegacy(app!.wsUrl, opts);
      legacyClients.push(c);
      return c;
    };
    /** A legacy client signed in as Playground does it: its headers pane as connection_init. */
    const signedIn = (user: TestUser) =>
      legacy({ connectionParams: { Authorization: `Bearer ${user.token}` } });
    const send = async (user: TestUser, input: Record<string, unknown>) =>
      ok(await app!.gql<{ sendMessage: Sent }>(SEND, { input }, user.token)).sendMessage;

    it.skipIf(!available)(
      'signs in with a capitalized Authorization key, runs queries and mutations, and receives what another user sends',
      async () => {
        const [ann, bob] = await Promise.all([
          registerUser(app!, 'Ann'),
          registerUser(app!, 'Bob'),
        ]);
        const first = await send(ann, { toPhone: bob.phone, body: 'hello' });
        const annClient = signedIn(ann);
        const bobClient = signedIn(bob);
        await Promise.all([annClient.acknowledged, bobClient.acknowledged]);

        const me = bobClient.request<{ displayName: string }>('{ me { displayName } }');
        await me.ended();
        expect(me.items).toEqual([{ displayName: 'Bob' }]);

        const live = bobClient.request<Added>(ADDED, {
          id: first.conversationId,
          after: first.cursor,
        });
        // Ann writes over her socket; Bob's subscription shows it, once, in order.
        const sentOverSocket = annClient.request<Sent>(SEND, {
          input: { conversationId: first.conversationId, body: 'over the socket' },
        });
        await sentOverSocket.ended();
        expect(sentOverSocket.errors).toEqual([]);
        expect(sentOverSocket.items[0]?.seq).toBe(2);
        await send(ann, { conversationId: first.conversationId, body: 'over HTTP' });
        const items = await live.until((x) => x.length >= 2);
        expect(items).toEqual([
          { seq: 2, body: 'over the socket', sender: { displayName: 'Ann' } },
          { seq: 3, body: 'over HTTP', sender: { displayName: 'Ann' } },
        ]);
        expect(live.errors).toEqual([]);
      },
    );

    it.skipIf(!available)(
      'resumes from a cursor: replays what it missed, then goes live, with no gap and no duplicate',
      async () => {
        const [ann, bob] = await Promise.all([registerUser(app!), registerUser(app!)]);
        const first = await send(ann, { toPhone: bob.phone, body: 'm1' });
        const id = first.conversationId;
        let seen: Sent = first;
        for (let i = 2; i <= 10; i++) {
          const sent = await send(ann, { conversationId: id, body: `m${i}` });
          if (i === 4) seen = sent;
        }
        const client = signedIn(bob);
        const resumed = client.request<Added>(ADDED, { id, after: seen.cursor });
        // Messages keep coming while it replays.
        for (let i = 11; i <= 25; i++) await send(ann, { conversationId: id, body: `m${i}` });
        const items = await resumed.until((x) => x.length >= 21);
        expect(items.map((m) => m.seq)).toEqual(range(5, 25));
        expect(items.map((m) => m.body)).toEqual(range(5, 25).map((i) => `m${i}`));
      },
    );

    it.skipIf(!available)(
      'refuses a missing or bad token with connection_error and 4401, and takes a Bearer header on the upgrade',
      async () => {
        const user = await registerUser(app!, 'Header');
        for (const connectionParams of [{}, { authorization: 'Bearer not-a-token' }]) {
          const refused = legacy({ connectionParams });
          await expect(refused.acknowledged).rejects.toMatchObject({
            message: expect.stringMatching(/token/i) as unknown,
          });
          expect(await refused.closed).toBe(4401);
        }
        const viaHeader = legacy({ headers: { Authorization: `Bearer ${user.token}` } });
        await viaHeader.acknowledged;
        const me = viaHeader.request<{ displayName: string }>('{ me { displayName } }');
        await me.ended();
        expect(me.items).toEqual([{ displayName: 'Header' }]);
      },
    );

    it.skipIf(!available)(
      'applies the same limits: a too deep document is refused, an oversized frame closes the socket (1009)',
      async () => {
        const user = await registerUser(app!);
        const client = signedIn(user);
        let deep = 'id';
        for (let i = 0; i < 8; i++) deep = `presence { user { ${deep} } }`;
        const tooDeep = client.request(`subscription { messageAdded { sender { ${deep} } } }`);
        await tooDeep.ended();
        expect(tooDeep.items).toEqual([]);
        expect(tooDeep.errors[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
        expect(tooDeep.errors[0]?.message).toMatch(/depth/);
        // The connection survives a refused document, then a frame over 1 MiB ends it.
        const me = client.request('{ me { id } }');
        await me.ended();
        expect(me.items).toEqual([{ id: user.id }]);
        client.request(`{ me { id } } # ${'x'.repeat(1024 * 1024)}`);
        expect(await client.closed).toBe(1009);
      },
    );

    it.skipIf(!available)(
      'shares one execution of an event among legacy and graphql-ws subscribers of the same document',
      async () => {
        const members = await Promise.all(
          Array.from({ length: 9 }, (_, i) => registerUser(app!, `M${i}`)),
        );
        const [owner, ...rest] = members;
        const id = ok(
          await app!.gql<{ createGroupConversation: { id: string } }>(
            `mutation($i: CreateGroupConversationInput!) { createGroupConversation(input: $i) { id } }`,
            { i: { title: 'Both protocols', memberPhones: rest.map((m) => m.phone) } },
            owner!.token,
          ),
        ).createGroupConversation.id;
        // An edited message's status needs its members' read positions, looked up per execution:
        // the count of those lookups tells how many times an edit's event was executed.
        const UPDATED = `subscription($id: ID) { messageUpdated(conversationId: $id) { seq body status sender { displayName } } }`;
        const subs = rest.map((member, i) => {
          if (i % 2 === 0) return signedIn(member).request<Added>(UPDATED, { id });
          const modern = connect(app!.wsUrl, member.token);
          clients.push(modern);
          return subscribe<Added>(modern, UPDATED, { id });
        });
        const EDIT = `mutation($i: EditMessageInput!) { editMessage(input: $i) { seq } }`;
        const message = await send(owner!, { conversationId: id, body: 'to be edited' });
        // Edit until every subscription has shown an edit (they are live).
        for (let n = 1; ; n++) {
          ok(
            await app!.gql(
              EDIT,
              { i: { messageId: message.id, body: `probe ${n}` } },
              owner!.token,
            ),
          );
          const live = await Promise.all(
            subs.map((s) =>
              s
                .until((x) => x.some((m) => m.body === `probe ${n}`), 1_000)
                .then(
                  () => true,
                  () => false,
                ),
            ),
          );
          if (live.every(Boolean)) break;
          expect(n, 'the subscriptions never went live').toBeLessThan(10);
        }

        const before = app!.statements.length;
        ok(await app!.gql(EDIT, { i: { messageId: message.id, body: 'counted' } }, owner!.token));
        const received = await Promise.all(
          subs.map((s) => s.until((x) => x.some((m) => m.body === 'counted'))),
        );
        expect(received.map((items) => items.find((m) => m.body === 'counted'))).toEqual(
          rest.map(() => ({
            seq: message.seq,
            body: 'counted',
            status: expect.any(String),
            sender: { displayName: 'M0' },
          })),
        );
        // The members are looked up once for all eight, whichever protocol they speak (once per
        // protocol would be 2, once per subscriber 8).
        const memberLookups = app!.statements
          .slice(before)
          .filter((q) => /order by "conversation_members"."joined_at"/.test(q)).length;
        expect(memberLookups).toBe(1);
      },
    );

    it.skipIf(!available)(
      'closes a socket whose connection_init does not come in time (4408)',
      async () => {
        // The client sends connection_init once its params resolve: here, never.
        const silent = legacy({ connectionParams: () => new Promise(() => undefined) });
        expect(await silent.closed).toBe(4408);
      },
    );

    it.skipIf(!available)('closes its sockets with 1001 when the server stops', async () => {
      const user = await registerUser(app!);
      const client = signedIn(user);
      await client.acknowledged;
      const stopping = app!;
      app = undefined;
      await stopping.close();
      expect(await client.closed).toBe(1001);
    });
  },
);
