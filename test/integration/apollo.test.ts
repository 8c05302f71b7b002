// Apollo Client 4 with Parley's recipe (client/src/apollo.ts, client/src/ws.ts) against a real
// server: pages of messages merge into one cached connection, messageAdded joins it through
// subscribeToMore, a message delivered twice is held once, and a connection the server cuts
// loses nothing and duplicates nothing.
import {
  ApolloClient,
  ApolloLink,
  HttpLink,
  gql,
  type ObservableQuery,
  type OperationVariables,
} from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { createClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendMessageAdded, createParleyApolloCache } from '../../client/src/apollo.js';
import {
  MessageAddedDocument,
  MessagesDocument,
  type MessageFieldsFragment,
  type MessagesQuery,
  type MessagesQueryVariables,
} from '../../client/src/gql/graphql.js';
import { resumingClient } from '../../client/src/ws.js';
import {
  deployments,
  ok,
  registerUser,
  startApp,
  type TestApp,
  type TestUser,
} from '../support/app.js';

/** The client an app builds: queries over HTTP, subscriptions over one resuming WebSocket. */
function apolloClientOf(app: TestApp, user: TestUser): { client: ApolloClient; ws: WsClient } {
  const authorization = `Bearer ${user.token}`;
  const ws = createClient({
    url: app.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization },
    retryAttempts: Infinity,
    retryWait: () => new Promise((resolve) => setTimeout(resolve, 50)),
  });
  const client = new ApolloClient({
    cache: createParleyApolloCache(),
    link: ApolloLink.split(
      (operation) => operation.operationType === 'subscription',
      new GraphQLWsLink(resumingClient(ws)),
      new HttpLink({ uri: app.url, headers: { authorization } }),
    ),
  });
  return { client, ws };
}

/** The latest result of a watched query, and a way to wait until it shows something. */
function watch<T, V extends OperationVariables>(query: ObservableQuery<T, V>) {
  let latest: T | undefined;
  let error: unknown;
  let wake = () => {};
  const subscription = query.subscribe((result) => {
    if (result.error) error = result.error;
    else if (result.dataState === 'complete') latest = result.data as T;
    wake();
  });
  return {
    current: () => latest,
    until(predicate: (data: T) => boolean): Promise<T> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`still waiting; the query shows ${JSON.stringify(latest)}`)),
          15_000,
        );
        wake = () => {
          if (error) reject(error instanceof Error ? error : new Error(String(error)));
          else if (latest !== undefined && predicate(latest)) resolve(latest);
          else return;
          clearTimeout(timer);
        };
        wake();
      });
    },
    stop: () => subscription.unsubscribe(),
  };
}

const bodiesOf = (data: MessagesQuery) => data.messages.edges.map((e) => e.node.body);

describe.each(deployments())(
  'Apollo Client recipe on $name',
  ({ backend, redisUrl, available }) => {
    let app: TestApp;
    let ann: TestUser;
    let bob: TestUser;
    const disposers: (() => Promise<void>)[] = [];
    beforeAll(async () => {
      if (!available) return;
      app = await startApp(backend, redisUrl ? { redisUrl } : {});
      [ann, bob] = await Promise.all([registerUser(app, 'Ann'), registerUser(app, 'Bob')]);
    });
    afterAll(async () => {
      await Promise.allSettled(disposers.map((dispose) => dispose()));
      await app?.close();
    });

    const clientOf = (user: TestUser) => {
      const { client, ws } = apolloClientOf(app, user);
      disposers.push(async () => {
        client.stop();
        await ws.dispose();
      });
      return client;
    };
    const group = async (title: string) =>
      ok(
        await app.gql<{ createGroupConversation: { id: string } }>(
          `mutation($input: CreateGroupConversationInput!) { createGroupConversation(input: $input) { id } }`,
          { input: { title, memberPhones: [bob.phone] } },
          ann.token,
        ),
      ).createGroupConversation.id;
    const sendTo = (conversationId: string) => async (body: string) =>
      ok(
        await app.gql(
          `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
          { input: { conversationId, body } },
          ann.token,
        ),
      );

    it.skipIf(!available)(
      'older pages, live messages, a re-delivery and server-side disconnects make one cached page, each message once',
      async () => {
        const conversationId = await group('Apollo');
        const send = sendTo(conversationId);
        for (let i = 1; i <= 25; i++) await send(`h${i}`);
        const client = clientOf(bob);

        const query = client.watchQuery<MessagesQuery, MessagesQueryVariables>({
          query: MessagesDocument,
          variables: { conversationId, last: 10 },
        });
        const page = watch(query);
        const newest = await page.until((d) => d.messages.edges.length === 10);
        expect(bodiesOf(newest)).toEqual(Array.from({ length: 10 }, (_, i) => `h${16 + i}`));

        // An older page, prepended to the same cached connection.
        await query.fetchMore({
          variables: { before: newest.messages.pageInfo.startCursor, last: 10 },
        });
        const twenty = await page.until((d) => d.messages.edges.length === 20);
        expect(bodiesOf(twenty)).toEqual(Array.from({ length: 20 }, (_, i) => `h${6 + i}`));

        // Live: the subscription starts where the page ends.
        query.subscribeToMore({
          document: MessageAddedDocument,
          variables: { conversationId, after: twenty.messages.pageInfo.endCursor },
          updateQuery: appendMessageAdded,
        });
        await send('live 1');
        await page.until((d) => bodiesOf(d).at(-1) === 'live 1');

        // Delivered again: a second subscription replaying from h20, whose updateQuery appends
        // blindly; the cache's merge still holds each message once.
        const replayed: string[] = [];
        let onReplay = () => {};
        const replayedUpTo = (body: string) =>
          new Promise<void>((resolve) => {
            onReplay = () => replayed.includes(body) && resolve();
            onReplay();
          });
        query.subscribeToMore({
          document: MessageAddedDocument,
          variables: { conversationId, after: twenty.messages.edges[14]!.cursor },
          updateQuery: (_previous, { complete, previousData, subscriptionData }) => {
            const node: MessageFieldsFragment = subscriptionData.data.messageAdded;
            replayed.push(node.body ?? '');
            onReplay();
            if (!complete) return;
            const edge = { __typename: 'MessageEdge' as const, cursor: node.cursor, node };
            const edges = [...previousData.messages.edges, edge];
            return { ...previousData, messages: { ...previousData.messages, edges } };
          },
        });
        await replayedUpTo('live 1');
        expect(replayed).toEqual(['h21', 'h22', 'h23', 'h24', 'h25', 'live 1']);
        expect(bodiesOf(page.current()!)).toEqual([
          ...Array.from({ length: 20 }, (_, i) => `h${6 + i}`),
          'live 1',
        ]);

        // The server cuts the socket while messages keep coming, twice.
        await send('live 2');
        await page.until((d) => bodiesOf(d).at(-1) === 'live 2');
        expect(app.dropWebSockets()).toBe(1);
        await send('live 3');
        await send('live 4');
        app.dropWebSockets();
        await send('live 5');
        await send('live 6');
        const final = await page.until((d) => bodiesOf(d).at(-1) === 'live 6');
        expect(bodiesOf(final)).toEqual([
          ...Array.from({ length: 20 }, (_, i) => `h${6 + i}`),
          ...Array.from({ length: 6 }, (_, i) => `live ${i + 1}`),
        ]);
        // Each subscription was resumed from the last message it delivered, not replayed anew.
        await replayedUpTo('live 6');
        expect(replayed).toEqual([
          ...['h21', 'h22', 'h23', 'h24', 'h25'],
          ...Array.from({ length: 6 }, (_, i) => `live ${i + 1}`),
        ]);
        const seqs = final.messages.edges.map((e) => e.node.seq);
        expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
        // The end cursor follows the newest message: a later sync resumes after it.
        expect(final.messages.pageInfo.endCursor).toBe(final.messages.edges.at(-1)!.cursor);
        page.stop();
      },
    );

    it.skipIf(!available)(
      'a subscription to every conversation catches up over the socket after the server cuts it',
      async () => {
        const conversationId = await group('Everywhere');
        const send = sendTo(conversationId);
        const client = clientOf(bob);
        const seen: MessageFieldsFragment[] = [];
        let wake = () => {};
        const until = (predicate: () => boolean, timeoutMs = 15_000) =>
          new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('still waiting')), timeoutMs);
            wake = () => predicate() && (clearTimeout(timer), resolve());
            wake();
          });
        const subscription = client
          .subscribe({ query: MessageAddedDocument, variables: {} })
          .subscribe((result) => {
            const message = result.data?.messageAdded;
            if (message?.conversationId === conversationId) seen.push(message);
            wake();
          });
        // The stream of every conversation starts "now": send until it shows it is live.
        for (let i = 1; seen.length === 0; i++) {
          await send(`warm-up ${i}`);
          await until(() => seen.length > 0, 1_000).catch(() => undefined);
        }
        const live = seen.length;
        expect(app.dropWebSockets()).toBe(1);
        await send('a1');
        await send('a2');
        app.dropWebSockets();
        await send('a3');
        await until(() => seen.some((m) => m.body === 'a3'));
        subscription.unsubscribe();
        expect(seen.slice(live).map((m) => m.body)).toEqual(['a1', 'a2', 'a3']);
        const seqs = seen.map((m) => m.seq);
        expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
      },
    );

    it.skipIf(!available)(
      "conversation lists and a conversation's messages page into one cached list each",
      async () => {
        const ids: string[] = [];
        for (let i = 1; i <= 4; i++) ids.push(await group(`List ${i}`));
        await Promise.all([1, 2, 3, 4, 5].map((i) => sendTo(ids[0]!)(`c${i}`)));
        const client = clientOf(bob);

        const CONVERSATIONS = gql`
          query ($after: String) {
            conversations(first: 2, after: $after) {
              edges {
                cursor
                node {
                  id
                  title
                }
              }
              pageInfo {
                hasNextPage
                endCursor
              }
            }
          }
        `;
        type Conversations = {
          conversations: {
            edges: { node: { id: string; title: string } }[];
            pageInfo: { hasNextPage: boolean; endCursor: string };
          };
        };
        const list = client.watchQuery<Conversations>({ query: CONVERSATIONS });
        const watched = watch(list);
        const first = await watched.until((d) => d.conversations.edges.length === 2);
        await list.fetchMore({ variables: { after: first.conversations.pageInfo.endCursor } });
        const titles = (await watched.until((d) => d.conversations.edges.length >= 4)).conversations
          .edges;
        // Most recent activity first: the one with messages, then the newest groups.
        expect(titles.slice(0, 4).map((e) => e.node.title)).toEqual([
          'List 1',
          'List 4',
          'List 3',
          'List 2',
        ]);
        watched.stop();

        const HISTORY = gql`
          query ($id: ID!, $before: String) {
            conversation(id: $id) {
              id
              messages(last: 2, before: $before) {
                edges {
                  cursor
                  node {
                    id
                    seq
                  }
                }
                pageInfo {
                  startCursor
                }
              }
            }
          }
        `;
        type History = {
          conversation: {
            messages: {
              edges: { node: { seq: number } }[];
              pageInfo: { startCursor: string };
            };
          };
        };
        const history = client.watchQuery<History>({ query: HISTORY, variables: { id: ids[0] } });
        const historyPage = watch(history);
        const latest = await historyPage.until((d) => d.conversation.messages.edges.length === 2);
        await history.fetchMore({
          variables: { before: latest.conversation.messages.pageInfo.startCursor },
        });
        const merged = await historyPage.until((d) => d.conversation.messages.edges.length === 4);
        expect(merged.conversation.messages.edges.map((e) => e.node.seq)).toEqual([2, 3, 4, 5]);
        historyPage.stop();
      },
    );
  },
);
