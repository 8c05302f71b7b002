// Relay (relay-runtime, with artifacts compiled by relay-compiler from test/relay/) against a real
// server: a screen's query is fetched, then its @refetchable fragments are refetched by id through
// `node`, and the store hands the screen what changed. Objects the viewer may not see come back
// as null, like missing ones, through `node` and `nodes` alike.
import {
  Environment,
  fetchQuery,
  getSelector,
  Network,
  RecordSource,
  Store,
  createOperationDescriptor,
  type ConcreteRequest,
  type GraphQLResponse,
  type OperationType,
  type ReaderFragment,
  type SingularReaderSelector,
  type Snapshot,
} from 'relay-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, errorCode, ok, registerUser, startApp, type TestApp } from '../support/app.js';
import type { TestUser } from '../support/app.js';
import ConversationQuery from '../relay/__generated__/conversationScreenQuery.graphql.js';
import NodesQuery, {
  type conversationScreenNodesQuery,
} from '../relay/__generated__/conversationScreenNodesQuery.graphql.js';
import ConversationFragment, {
  type conversationScreen_conversation$data as ConversationData,
} from '../relay/__generated__/conversationScreen_conversation.graphql.js';
import MessageFragment, {
  type conversationScreen_message$data as MessageData,
} from '../relay/__generated__/conversationScreen_message.graphql.js';
import UserFragment, {
  type conversationScreen_user$data as UserData,
} from '../relay/__generated__/conversationScreen_user.graphql.js';

/** The environment an app builds: the network posts the compiled text with the user's token. */
function relayEnvironment(app: TestApp, user: TestUser): Environment {
  return new Environment({
    network: Network.create(async (params, variables) => {
      const response = await fetch(app.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
        body: JSON.stringify({ query: params.text, variables }),
      });
      return (await response.json()) as GraphQLResponse;
    }),
    store: new Store(new RecordSource()),
  });
}

/** A fragment's data for a fragment reference, and every later version the store publishes. */
function watchFragment<T>(environment: Environment, fragment: ReaderFragment, ref: unknown) {
  const selector = getSelector(fragment, ref) as SingularReaderSelector;
  const snapshot = environment.lookup(selector);
  const versions: T[] = [snapshot.data as T];
  environment.subscribe(snapshot, (next: Snapshot) => versions.push(next.data as T));
  return { current: () => versions.at(-1)!, versions };
}

/** What useRefetchableFragment's refetch() does: the fragment's own node query, by its id. */
async function refetch(environment: Environment, fragment: ReaderFragment, id: string) {
  const metadata = fragment.metadata?.refetch;
  if (!metadata?.identifierInfo) throw new Error(`${fragment.name} is not @refetchable`);
  expect(metadata.fragmentPathInResult).toEqual(['node']);
  const query = metadata.operation as ConcreteRequest;
  const variables = { [metadata.identifierInfo.identifierQueryVariableName]: id };
  const data = await fetchQuery<OperationType>(environment, query, variables).toPromise();
  return (data as { node: unknown }).node;
}

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`;

describe.each(backends())('Relay object identification on $name', ({ name, available }) => {
  let app: TestApp;
  let ann: TestUser;
  let bob: TestUser;
  let dana: TestUser;
  beforeAll(async () => {
    if (!available) return;
    app = await startApp(name);
    [ann, bob, dana] = await Promise.all([
      registerUser(app, 'Ann'),
      registerUser(app, 'Bob'),
      registerUser(app, 'Dana'),
    ]);
  });
  afterAll(async () => app?.close());

  const group = async (owner: TestUser, title: string, members: TestUser[]) =>
    ok(
      await app.gql<{ createGroupConversation: { id: string } }>(
        `mutation($input: CreateGroupConversationInput!) { createGroupConversation(input: $input) { id } }`,
        { input: { title, memberPhones: members.map((m) => m.phone) } },
        owner.token,
      ),
    ).createGroupConversation.id;
  const send = async (from: TestUser, conversationId: string, body: string) =>
    ok(
      await app.gql<{ sendMessage: { id: string } }>(
        SEND,
        { input: { conversationId, body } },
        from.token,
      ),
    ).sendMessage.id;

  it.skipIf(!available)(
    'refetching fragments through node(id:) updates what the screen shows',
    async () => {
      // Users of its own: it renames one.
      const [eve, finn] = await Promise.all([registerUser(app, 'Eve'), registerUser(app, 'Finn')]);
      const conversationId = await group(eve, 'Trip', [finn]);
      await send(eve, conversationId, 'hello');
      const environment = relayEnvironment(app, finn);

      const operation = createOperationDescriptor(ConversationQuery, { id: conversationId });
      environment.retain(operation);
      await fetchQuery(environment, ConversationQuery, { id: conversationId }).toPromise();
      const root = environment.lookup(operation.fragment).data as {
        conversation: unknown;
      };
      const conversation = watchFragment<ConversationData>(
        environment,
        ConversationFragment,
        root.conversation,
      );
      expect(conversation.current()).toMatchObject({ id: conversationId, title: 'Trip' });
      expect(conversation.current().unreadCount).toBe(1);
      const firstMessage = watchFragment<MessageData>(
        environment,
        MessageFragment,
        conversation.current().lastMessage,
      );
      expect(firstMessage.current()).toMatchObject({ seq: 1, body: 'hello', editedAt: null });
      const sender = watchFragment<UserData>(
        environment,
        UserFragment,
        firstMessage.current().sender,
      );
      expect(sender.current()).toEqual(expect.objectContaining({ id: eve.id, displayName: 'Eve' }));

      // The conversation moves on; its fragment, refetched by id, brings the screen up to date.
      await send(eve, conversationId, 'second');
      const refetched = await refetch(environment, ConversationFragment, conversationId);
      expect(refetched).not.toBeNull();
      expect(conversation.current().unreadCount).toBe(2);
      const newest = watchFragment<MessageData>(
        environment,
        MessageFragment,
        conversation.current().lastMessage,
      );
      expect(newest.current()).toMatchObject({ seq: 2, body: 'second' });

      // A message edited meanwhile, refetched alone by its id.
      ok(
        await app.gql(
          `mutation($input: EditMessageInput!) { editMessage(input: $input) { id } }`,
          { input: { messageId: newest.current().id, body: 'second, edited' } },
          eve.token,
        ),
      );
      await refetch(environment, MessageFragment, newest.current().id);
      expect(newest.current().body).toBe('second, edited');
      expect(newest.current().editedAt).toEqual(expect.any(String));

      // A user renamed: refetched by id, every place that shows them follows (one record).
      ok(
        await app.gql(
          `mutation { updateProfile(input: { displayName: "Eve B." }) { id } }`,
          {},
          eve.token,
        ),
      );
      await refetch(environment, UserFragment, eve.id);
      expect(sender.current().displayName).toBe('Eve B.');
      const member = conversation
        .current()
        .members.map(
          (ref) =>
            environment.lookup(getSelector(UserFragment, ref) as SingularReaderSelector)
              .data as UserData,
        )
        .find((u) => u.id === eve.id);
      expect(member?.displayName).toBe('Eve B.');
    },
  );

  it.skipIf(!available)(
    'a conversation or message the viewer is not in is null through node, like a missing id; users are visible',
    async () => {
      const conversationId = await group(ann, 'Private', [bob]);
      const messageId = await send(ann, conversationId, 'not for Dana');
      const outsider = relayEnvironment(app, dana);
      expect(await refetch(outsider, ConversationFragment, conversationId)).toBeNull();
      expect(await refetch(outsider, MessageFragment, messageId)).toBeNull();
      expect(await refetch(outsider, UserFragment, ann.id)).not.toBeNull();

      // Bob leaves: from then on the group and its messages are out of his sight too.
      const member = relayEnvironment(app, bob);
      expect(await refetch(member, MessageFragment, messageId)).not.toBeNull();
      ok(
        await app.gql(
          `mutation($id: ID!) { leaveConversation(conversationId: $id) }`,
          { id: conversationId },
          bob.token,
        ),
      );
      expect(await refetch(member, ConversationFragment, conversationId)).toBeNull();
      expect(await refetch(member, MessageFragment, messageId)).toBeNull();
    },
  );

  it.skipIf(!available)(
    'nodes(ids:) answers in order: objects where visible, null for hidden, missing and malformed ids',
    async () => {
      const shared = await group(ann, 'Shared', [bob]);
      const sharedMessage = await send(ann, shared, 'visible');
      const hidden = await group(ann, 'Hidden', [dana]);
      const hiddenMessage = await send(ann, hidden, 'hidden');
      const ids = [
        shared,
        'not an id',
        sharedMessage,
        hidden,
        ann.id,
        hiddenMessage,
        '00000000-0000-4000-8000-000000000000',
        '',
        bob.id,
      ];
      const data = await fetchQuery<conversationScreenNodesQuery>(
        relayEnvironment(app, bob),
        NodesQuery,
        { ids },
      ).toPromise();
      expect(data?.nodes).toEqual([
        { __typename: 'Conversation', id: shared, title: 'Shared' },
        null,
        { __typename: 'Message', id: sharedMessage, body: 'visible' },
        null,
        { __typename: 'User', id: ann.id, displayName: 'Ann' },
        null,
        null,
        null,
        { __typename: 'User', id: bob.id, displayName: 'Bob' },
      ]);
    },
  );

  it.skipIf(!available)(
    'nodes with 100 ids costs a few statements, not one per id; 101 ids is BAD_USER_INPUT',
    async () => {
      const conversations = await Promise.all(
        Array.from({ length: 20 }, (_, i) => group(bob, `Batch ${i}`, [ann])),
      );
      const messages = (
        await Promise.all(
          conversations.map(async (id) => {
            const sent: string[] = [];
            for (let i = 0; i < 3; i++) sent.push(await send(ann, id, `m${i}`));
            return sent;
          }),
        )
      ).flat();
      const users = [ann, bob, dana];
      const ids = [
        ...conversations,
        ...messages,
        ...users.map((u) => u.id),
        ...Array.from({ length: 17 }, (_, i) => `garbage ${i}`),
      ];
      expect(ids).toHaveLength(100);
      const query = `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Message { body } } }`;
      const startAt = app.statements.length;
      const res = ok(
        await app.gql<{ nodes: ({ id: string } | null)[] }>(query, { ids }, bob.token),
      );
      // Background work (the outbox drainer) is not the request's.
      const statements = app.statements.slice(startAt).filter((q) => !/\boutbox\b/.test(q));
      expect(res.nodes.map((n) => n?.id ?? null)).toEqual([
        ...conversations,
        ...messages,
        ...users.map((u) => u.id),
        ...Array.from({ length: 17 }, () => null),
      ]);
      // Users, conversations, messages and the delivery mark: one statement each.
      expect(statements.length).toBeLessThanOrEqual(4);

      const tooMany = await app.gql(query, { ids: [...ids, bob.id] }, bob.token);
      expect(errorCode(tooMany)).toBe('BAD_USER_INPUT');
      expect(tooMany.errors?.[0]?.message).toMatch(/100/);
    },
  );

  it.skipIf(!available)(
    'a message fetched through node counts as delivered to its reader',
    async () => {
      const conversationId = await group(ann, 'Receipts', [bob]);
      const messageId = await send(ann, conversationId, 'did you get this?');
      const status = async () =>
        ok(
          await app.gql<{ node: { status: string } }>(
            `query($id: ID!) { node(id: $id) { ... on Message { status } } }`,
            { id: messageId },
            ann.token,
          ),
        ).node.status;
      expect(await status()).toBe('SENT');
      expect(await refetch(relayEnvironment(app, bob), MessageFragment, messageId)).not.toBeNull();
      expect(await status()).toBe('DELIVERED');
    },
  );
});
