/**
 * @generated SignedSource<<958a4b81263f584e8d040ee5d7f1606a>>
 * @lightSyntaxTransform
 * @codegen-command: npm run codegen
 */

/* tslint:disable */
/* eslint-disable */
// @ts-nocheck

import type { ReaderFragment } from 'relay-runtime';
import type { FragmentRefs } from "relay-runtime";
export type conversationScreen_conversation$data = {
  readonly id: string;
  readonly lastMessage: {
    readonly " $fragmentSpreads": FragmentRefs<"conversationScreen_message">;
  } | null | undefined;
  readonly members: ReadonlyArray<{
    readonly " $fragmentSpreads": FragmentRefs<"conversationScreen_user">;
  }>;
  readonly title: string | null | undefined;
  readonly unreadCount: number;
  readonly " $fragmentType": "conversationScreen_conversation";
};
export type conversationScreen_conversation$key = {
  readonly " $data"?: conversationScreen_conversation$data;
  readonly " $fragmentSpreads": FragmentRefs<"conversationScreen_conversation">;
};

import conversationScreenRefetchQuery_graphql from './conversationScreenRefetchQuery.graphql';

const node: ReaderFragment = {
  "argumentDefinitions": [],
  "kind": "Fragment",
  "metadata": {
    "refetch": {
      "connection": null,
      "fragmentPathInResult": [
        "node"
      ],
      "operation": conversationScreenRefetchQuery_graphql,
      "identifierInfo": {
        "identifierField": "id",
        "identifierQueryVariableName": "id"
      }
    }
  },
  "name": "conversationScreen_conversation",
  "selections": [
    {
      "alias": null,
      "args": null,
      "kind": "ScalarField",
      "name": "id",
      "storageKey": null
    },
    {
      "alias": null,
      "args": null,
      "kind": "ScalarField",
      "name": "title",
      "storageKey": null
    },
    {
      "alias": null,
      "args": null,
      "kind": "ScalarField",
      "name": "unreadCount",
      "storageKey": null
    },
    {
      "alias": null,
      "args": null,
      "concreteType": "Message",
      "kind": "LinkedField",
      "name": "lastMessage",
      "plural": false,
      "selections": [
        {
          "args": null,
          "kind": "FragmentSpread",
          "name": "conversationScreen_message"
        }
      ],
      "storageKey": null
    },
    {
      "alias": null,
      "args": null,
      "concreteType": "User",
      "kind": "LinkedField",
      "name": "members",
      "plural": true,
      "selections": [
        {
          "args": null,
          "kind": "FragmentSpread",
          "name": "conversationScreen_user"
        }
      ],
      "storageKey": null
    }
  ],
  "type": "Conversation",
  "abstractKey": null
};

(node as any).hash = "2006422d253ba504844d268e81736487";

export default node;
