// Parley with Apollo Client (4.x): the cache's type policies, and merging messageAdded into a
// cached page of messages with subscribeToMore.
//
//   const ws = createClient({ url, connectionParams: { authorization }, retryAttempts: Infinity });
//   const client = new ApolloClient({
//     cache: createParleyApolloCache(),
//     link: ApolloLink.split(
//       (op) => op.operationType === 'subscription',
//       new GraphQLWsLink(resumingClient(ws)), // from ./ws.ts: resumes after a reconnect
//       new HttpLink({ uri, headers: { authorization } }),
//     ),
//   });
//   const page = client.watchQuery({ query: MessagesDocument, variables: { conversationId, last: 30 } });
//   page.subscribeToMore({
//     document: MessageAddedDocument,
//     variables: { conversationId, after: endCursorOfThePage },
//     updateQuery: appendMessageAdded,
//   });
import {
  InMemoryCache,
  isReference,
  type InMemoryCacheConfig,
  type Reference,
  type SubscribeToMoreUpdateQueryFn,
  type TypePolicies,
} from '@apollo/client';
import { relayStylePagination, type RelayFieldPolicy } from '@apollo/client/utilities';
import type {
  MessageAddedSubscription,
  MessageFieldsFragment,
  MessagesQuery,
  MessagesQueryVariables,
} from './gql/graphql.js';

/**
 * Pages of messages, merged like Relay connections (`before` pages prepend older ones, `after`
 * pages append newer ones), holding each message once: a message that arrives twice (a
 * subscription replaying after a reconnect, a mutation's own update racing the subscription)
 * is kept where it first came.
 */
function messagePages(keyArgs: string[] | false): RelayFieldPolicy<Reference> {
  const pages = relayStylePagination(keyArgs);
  const merge = pages.merge;
  if (typeof merge !== 'function') throw new Error('relayStylePagination without a merge');
  return {
    ...pages,
    merge(existing, incoming, options) {
      const merged = merge(existing, incoming, options);
      if (!merged) return merged;
      const seen = new Set<string>();
      const edges = merged.edges.filter((edge) => {
        const node = options.readField<Reference>('node', edge);
        if (!isReference(node)) return true;
        if (seen.has(node.__ref)) return false;
        seen.add(node.__ref);
        return true;
      });
      return { ...merged, edges };
    },
  };
}

/**
 * Users, conversations, messages and attachments are entities, by `id` (a user's or
 * conversation's UUID, a message's own id: unique across types, as `Query.node` needs).
 * Presence, read receipts and typing events are values inside what holds them.
 */
export const parleyTypePolicies: TypePolicies = {
  Query: {
    fields: {
      conversations: relayStylePagination(),
      messages: messagePages(['conversationId']),
    },
  },
  User: { keyFields: ['id'], fields: { presence: { merge: true } } },
  Conversation: { keyFields: ['id'], fields: { messages: messagePages(false) } },
  Message: { keyFields: ['id'] },
  Attachment: { keyFields: ['id'] },
  Presence: { keyFields: false },
  ReadReceipt: { keyFields: false },
  TypingEvent: { keyFields: false },
};

/** An InMemoryCache with Parley's type policies; `config.typePolicies` are added on top. */
export function createParleyApolloCache(config: InMemoryCacheConfig = {}): InMemoryCache {
  const { typePolicies, ...rest } = config;
  const cache = new InMemoryCache({ ...rest, typePolicies: parleyTypePolicies });
  if (typePolicies) cache.policies.addTypePolicies(typePolicies);
  return cache;
}

type MessagePage = MessagesQuery['messages'];

/**
 * The page with `message` in its place by seq, once. A page that does not reach the newest
 * message (`hasNextPage`) is left alone when the message is newer than its end: appending
 * would hide the gap between them.
 */
export function withMessage(page: MessagePage, message: MessageFieldsFragment): MessagePage {
  const { edges, pageInfo } = page;
  if (edges.some((e) => e.node.id === message.id)) return page;
  const at = edges.findIndex((e) => e.node.seq > message.seq);
  if (at < 0 && pageInfo.hasNextPage) return page;
  const edge = { __typename: 'MessageEdge' as const, cursor: message.cursor, node: message };
  const index = at < 0 ? edges.length : at;
  return {
    ...page,
    edges: [...edges.slice(0, index), edge, ...edges.slice(index)],
    pageInfo: at < 0 ? { ...pageInfo, endCursor: message.cursor } : pageInfo,
  };
}

/**
 * subscribeToMore's `updateQuery` for a MessagesDocument query and a MessageAddedDocument
 * subscription: the new message joins the cached page (see withMessage); one of another
 * conversation (a subscription of every conversation) is ignored.
 */
export const appendMessageAdded: SubscribeToMoreUpdateQueryFn<
  MessagesQuery,
  MessagesQueryVariables,
  MessageAddedSubscription
> = (_unsafePrevious, { complete, previousData, subscriptionData, variables }) => {
  const message = subscriptionData.data.messageAdded;
  if (!complete || message.conversationId !== variables?.conversationId) return;
  const messages = withMessage(previousData.messages, message);
  if (messages === previousData.messages) return; // already there: nothing to write
  return { ...previousData, messages };
};
