// The GraphQL of a Relay screen showing a conversation, for the Relay test (relay.test.ts).
// relay-compiler (relay.config.json, run by `npm run codegen`) compiles these into
// __generated__/, which the test imports; an app's Babel plugin would replace each graphql``
// with its artifact (so this module itself is never executed: the test imports the artifacts).
import { graphql } from 'relay-runtime';

export const userFragment = graphql`
  fragment conversationScreen_user on User
  @refetchable(queryName: "conversationScreenUserRefetchQuery") {
    id
    displayName
  }
`;

export const messageFragment = graphql`
  fragment conversationScreen_message on Message
  @refetchable(queryName: "conversationScreenMessageRefetchQuery") {
    id
    seq
    body
    editedAt
    sender {
      ...conversationScreen_user
    }
  }
`;

export const conversationFragment = graphql`
  fragment conversationScreen_conversation on Conversation
  @refetchable(queryName: "conversationScreenRefetchQuery") {
    id
    title
    unreadCount
    lastMessage {
      ...conversationScreen_message
    }
    members {
      ...conversationScreen_user
    }
  }
`;

export const conversationQuery = graphql`
  query conversationScreenQuery($id: ID!) {
    conversation(id: $id) {
      ...conversationScreen_conversation
    }
  }
`;

export const nodesQuery = graphql`
  query conversationScreenNodesQuery($ids: [ID!]!) {
    nodes(ids: $ids) {
      __typename
      id
      ... on User {
        displayName
      }
      ... on Conversation {
        title
      }
      ... on Message {
        body
      }
    }
  }
`;
