/**
 * @generated SignedSource<<4a42f7da84d380ea005520e7eeebf8af>>
 * @lightSyntaxTransform
 * @codegen-command: npm run codegen
 */

/* tslint:disable */
/* eslint-disable */
// @ts-nocheck

import type { ReaderFragment } from 'relay-runtime';
import type { FragmentRefs } from "relay-runtime";
export type conversationScreen_message$data = {
  readonly body: string | null | undefined;
  readonly editedAt: string | null | undefined;
  readonly id: string;
  readonly sender: {
    readonly " $fragmentSpreads": FragmentRefs<"conversationScreen_user">;
  };
  readonly seq: number;
  readonly " $fragmentType": "conversationScreen_message";
};
export type conversationScreen_message$key = {
  readonly " $data"?: conversationScreen_message$data;
  readonly " $fragmentSpreads": FragmentRefs<"conversationScreen_message">;
};

import conversationScreenMessageRefetchQuery_graphql from './conversationScreenMessageRefetchQuery.graphql';

const node: ReaderFragment = {
  "argumentDefinitions": [],
  "kind": "Fragment",
  "metadata": {
    "refetch": {
      "connection": null,
      "fragmentPathInResult": [
        "node"
      ],
      "operation": conversationScreenMessageRefetchQuery_graphql,
      "identifierInfo": {
        "identifierField": "id",
        "identifierQueryVariableName": "id"
      }
    }
  },
  "name": "conversationScreen_message",
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
      "name": "seq",
      "storageKey": null
    },
    {
      "alias": null,
      "args": null,
      "kind": "ScalarField",
      "name": "body",
      "storageKey": null
    },
    {
      "alias": null,
      "args": null,
      "kind": "ScalarField",
      "name": "editedAt",
      "storageKey": null
    },
    {
      "alias": null,
      "args": null,
      "concreteType": "User",
      "kind": "LinkedField",
      "name": "sender",
      "plural": false,
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
  "type": "Message",
  "abstractKey": null
};

(node as any).hash = "abf7d722df86fd591a3a4305fc26d7a0";

export default node;
