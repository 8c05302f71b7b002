// Resuming messageAdded with a stock graphql-ws client. On a reconnect graphql-ws sends each
// subscription's payload object again, as it is: with the `after` it started with, the server
// replays everything since then (duplicates). The recipe keeps one payload object per
// subscription and moves its `variables.after` to the cursor of each message delivered, so the
// server resumes right after the last one received. The server cuts the socket mid-stream while
// messages keep being sent; the recipe gets every message once, in order.
//
// The same holds for every durable stream with one cursor, `streamCursor`: messageAdded across
// all conversations, and messageUpdated in one conversation or across all of them.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import {
  deployments,
  ok,
  registerUser,
  startApp,
  type TestApp,
  type TestUser,
} from '../support/app.js';
import { connect, subscribe } from '../support/ws.js';

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

    const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id conversationId seq } }`;
    const EDIT = `mutation($id: ID!, $body: String!) { editMessage(input: { messageId: $id, body: $body }) { id } }`;
    const ADDED_ALL = `subscription($after: String) { messageAdded(after: $after) { conversationId seq body streamCursor } }`;
    const UPDATED = `subscription($id: ID, $after: String) { messageUpdated(conversationId: $id, after: $after) { id conversationId body deletedAt streamCursor } }`;
    interface Item {
      id: string;
      conversationId: string;
      seq: number;
      body: string | null;
      streamCursor: string;
    }
    const sendAs = async (user: TestUser, input: Record<string, unknown>) =>
      ok(
        await app.gql<{ sendMessage: { id: string; conversationId: string; seq: number } }>(
          SEND,
          { input },
          user.token,
        ),
      ).sendMessage;
    const group = async (owner: TestUser, members: TestUser[]) =>
      ok(
        await app.gql<{ createGroupConversation: { id: string } }>(
          `mutation($input: CreateGroupConversationInput!) { createGroupConversation(input: $input) { id } }`,
          { input: { title: 'g', memberPhones: members.map((m) => m.phone) } },
          owner.token,
        ),
      ).createGroupConversation.id;
    /** Subscribes, waits for `count` items, stops; returns them. */
    const take = async (
      user: TestUser,
      query: string,
      variables: Record<string, unknown>,
      count: number,
      during: () => Promise<unknown> = async () => {},
    ) => {
      const client = connect(app.wsUrl, user.token, { lazy: false });
      try {
        const live = subscribe<Item>(client, query, variables);
        await new Promise((r) => setTimeout(r, 300)); // subscribed
        await during();
        await live.until((x) => x.length >= count);
        // Nothing more arrives than expected.
        await new Promise((r) => setTimeout(r, 300));
        expect(live.errors).toEqual([]);
        return [...live.items];
      } finally {
        await client.dispose();
      }
    };

    it.skipIf(!available)(
      'messageAdded across all conversations resumes from streamCursor: every missed message once, including a conversation joined meanwhile',
      async () => {
        const [me, ann, cid, dee] = await Promise.all([
          registerUser(app, 'Me'),
          registerUser(app, 'Ann'),
          registerUser(app, 'Cid'),
          registerUser(app, 'Dee'),
        ]);
        const withAnn = (await sendAs(ann, { toPhone: me.phone, body: 'a0' })).conversationId;
        const withCid = (await sendAs(cid, { toPhone: me.phone, body: 'c0' })).conversationId;
        const first = await take(me, ADDED_ALL, {}, 4, async () => {
          for (const [u, id, body] of [
            [ann, withAnn, 'a1'],
            [cid, withCid, 'c1'],
            [ann, withAnn, 'a2'],
            [cid, withCid, 'c2'],
          ] as const) {
            await sendAs(u, { conversationId: id, body });
          }
        });
        expect(first.map((m) => m.body)).toEqual(['a1', 'c1', 'a2', 'c2']);
        const cursor = first.at(-1)!.streamCursor;
        expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);

        // Away: both conversations move on, and a group the caller is added to starts.
        await sendAs(ann, { conversationId: withAnn, body: 'a3' });
        const g = await group(dee, [me]);
        await sendAs(dee, { conversationId: g, body: 'g1' });
        await sendAs(cid, { conversationId: withCid, body: 'c3' });
        await sendAs(dee, { conversationId: g, body: 'g2' });

        const resumed = await take(me, ADDED_ALL, { after: cursor }, 4);
        const bodies = (id: string) =>
          resumed.filter((m) => m.conversationId === id).map((m) => m.body);
        expect(resumed).toHaveLength(4);
        expect(bodies(withAnn)).toEqual(['a3']);
        expect(bodies(withCid)).toEqual(['c3']);
        expect(bodies(g)).toEqual(['g1', 'g2']);
        // And from a cursor in the middle: exactly what came after it.
        const again = await take(me, ADDED_ALL, { after: resumed[1]!.streamCursor }, 2);
        expect(again.map((m) => m.body).sort()).toEqual(
          resumed
            .slice(2)
            .map((m) => m.body)
            .sort(),
        );
      },
    );

    it.skipIf(!available)(
      'messageUpdated resumes from streamCursor, in one conversation and across all: each change once, in its newest state',
      async () => {
        const [me, ann] = await Promise.all([registerUser(app, 'Me'), registerUser(app, 'Ann')]);
        const m1 = await sendAs(ann, { toPhone: me.phone, body: 'one' });
        const id = m1.conversationId;
        const m2 = await sendAs(ann, { conversationId: id, body: 'two' });
        const g = await group(ann, [me]);
        const m3 = await sendAs(ann, { conversationId: g, body: 'three' });
        const edit = (messageId: string, body: string) =>
          app.gql(EDIT, { id: messageId, body }, ann.token).then(ok);

        const one = await take(me, UPDATED, { id }, 1, () => edit(m1.id, 'one, edited'));
        const all = await take(me, UPDATED, {}, 2, async () => {
          await edit(m2.id, 'two, edited');
          await edit(m3.id, 'three, edited');
        });
        expect(all.map((m) => m.body)).toEqual(['two, edited', 'three, edited']);

        // Away: m1 is edited twice, m2 deleted, m3 edited.
        await edit(m1.id, 'one, again');
        await edit(m1.id, 'one, last');
        ok(
          await app.gql(
            `mutation($id: ID!) { deleteMessage(messageId: $id) { id } }`,
            { id: m2.id },
            ann.token,
          ),
        );
        await edit(m3.id, 'three, again');

        const resumedOne = await take(me, UPDATED, { id, after: one[0]!.streamCursor }, 2);
        expect(resumedOne.map((m) => [m.id, m.body])).toEqual([
          [m1.id, 'one, last'],
          [m2.id, null],
        ]);
        const resumedAll = await take(me, UPDATED, { after: all[1]!.streamCursor }, 3);
        expect(resumedAll.map((m) => [m.id, m.body]).sort()).toEqual(
          [
            [m1.id, 'one, last'],
            [m2.id, null],
            [m3.id, 'three, again'],
          ].sort(),
        );
        // A cursor of one stream does not resume another.
        const wrong = subscribe(connect(app.wsUrl, me.token), ADDED_ALL, {
          after: all[1]!.streamCursor,
        });
        await wrong.ended();
        expect(wrong.errors[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
      },
    );

    it.skipIf(!available)(
      'an all-conversations cursor stays small across many conversations and still resumes exactly',
      async () => {
        const me = await registerUser(app, 'Me');
        const others = await Promise.all(
          Array.from({ length: 24 }, (_, i) => registerUser(app, `P${i}`)),
        );
        const ids: string[] = [];
        for (const o of others) {
          ids.push((await sendAs(o, { toPhone: me.phone, body: 'hi' })).conversationId);
        }
        // Two more conversations stay quiet throughout: a cursor made after the positions were
        // saved again must still know where they stood (nothing of theirs is replayed).
        for (const quiet of await Promise.all([registerUser(app, 'Q1'), registerUser(app, 'Q2')])) {
          await sendAs(quiet, { toPhone: me.phone, body: 'quiet' });
        }
        const items = await take(me, ADDED_ALL, {}, 48, async () => {
          for (let round = 1; round <= 2; round++) {
            for (const [i, o] of others.entries()) {
              await sendAs(o, { conversationId: ids[i], body: `r${round} p${i}` });
            }
          }
        });
        expect(items).toHaveLength(48);
        // Every conversation moved, yet the cursor carries only what moved since its base.
        expect(Math.max(...items.map((m) => m.streamCursor.length))).toBeLessThan(500);
        // Resume from one cursor early and one late: exactly the rest, each once.
        for (const at of [10, 40, 47]) {
          const rest = await take(me, ADDED_ALL, { after: items[at]!.streamCursor }, 47 - at);
          expect(rest.map((m) => m.body).sort()).toEqual(
            items
              .slice(at + 1)
              .map((m) => m.body)
              .sort(),
          );
        }
      },
    );

    it.skipIf(!available)(
      'rejects a cursor that is not a stream cursor, and asks for a resync when its base is gone',
      async () => {
        const [me, ann] = await Promise.all([registerUser(app, 'Me'), registerUser(app, 'Ann')]);
        const m = await sendAs(ann, { toPhone: me.phone, body: 'x' });
        const [item] = await take(me, ADDED_ALL, {}, 1, () =>
          sendAs(ann, { conversationId: m.conversationId, body: 'y' }),
        );
        const codeOf = async (user: TestUser, after: string) => {
          const sub = subscribe(connect(app.wsUrl, user.token), ADDED_ALL, { after });
          await sub.ended();
          return sub.errors[0]?.extensions?.['code'];
        };
        const messageCursor = Buffer.from(`m1:${m.seq}`).toString('base64url');
        expect(await codeOf(me, messageCursor)).toBe('BAD_USER_INPUT');
        expect(await codeOf(me, 'not-a-cursor!')).toBe('BAD_USER_INPUT');
        // Someone else's cursor names nothing of theirs.
        expect(await codeOf(ann, item!.streamCursor)).toBe('RESYNC_REQUIRED');
        await app.database.db.execute(sql`delete from stream_bases where user_id = ${me.id}::uuid`);
        expect(await codeOf(me, item!.streamCursor)).toBe('RESYNC_REQUIRED');
        // Outside a subscription there is no stream position.
        const page = ok(
          await app.gql<{ messages: { edges: { node: { streamCursor: string | null } }[] } }>(
            `query($id: ID!) { messages(conversationId: $id, last: 1) { edges { node { streamCursor } } } }`,
            { id: m.conversationId },
            me.token,
          ),
        );
        expect(page.messages.edges[0]!.node.streamCursor).toBeNull();
      },
    );
  },
);
