/**
 * @generated SignedSource<<e28913424a4da79221664b4ffa079fef>>
 * @lightSyntaxTransform
 * @codegen-command: npm run codegen
 */

/* tslint:disable */
/* eslint-disable */
// @ts-nocheck

import type { ConcreteRequest } from 'relay-runtime';
export type conversationScreenNodesQuery$variables = {
  ids: ReadonlyArray<string>;
};
export type conversationScreenNodesQuery$data = {
  readonly nodes: ReadonlyArray<{
    readonly __typename: string;
    readonly body?: string | null | undefined;
    readonly displayName?: string;
    readonly id: string;
    readonly title?: string | null | undefined;
  } | null | undefined>;
};
export type conversationScreenNodesQuery = {
  response: conversationScreenNodesQuery$data;
  variables: conversationScreenNodesQuery$variables;
};

const node: ConcreteRequest = (function(){
var v0 = [
  {
    "defaultValue": null,
    "kind": "LocalArgument",
    "name": "ids"
  }
],
v1 = [
  {
    "alias": null,
    "args": [
      {
        "kind": "Variable",
        "name": "ids",
        "variableName": "ids"
      }
    ],
    "concreteType": null,
    "kind": "LinkedField",
    "name": "nodes",
    "plural": true,
    "selections": [
      {
        "alias": null,
        "args": null,
        "kind": "ScalarField",
        "name": "__typename",
        "storageKey": null
      },
      {
        "alias": null,
        "args": null,
        "kind": "ScalarField",
        "name": "id",
        "storageKey": null
      },
      {
        "kind": "InlineFragment",
        "selections": [
          {
            "alias": null,
            "args": null,
            "kind": "ScalarField",
            "name": "displayName",
            "storageKey": null
          }
        ],
        "type": "User",
        "abstractKey": null
      },
      {
        "kind": "InlineFragment",
        "selections": [
          {
            "alias": null,
            "args": null,
            "kind": "ScalarField",
            "name": "title",
            "storageKey": null
          }
        ],
        "type": "Conversation",
        "abstractKey": null
      },
      {
        "kind": "InlineFragment",
        "selections": [
          {
            "alias": null,
            "args": null,
            "kind": "ScalarField",
            "name": "body",
            "storageKey": null
          }
        ],
        "type": "Message",
        "abstractKey": null
      }
    ],
    "storageKey": null
  }
];
return {
  "fragment": {
    "argumentDefinitions": (v0/*:: as any*/),
    "kind": "Fragment",
    "metadata": null,
    "name": "conversationScreenNodesQuery",
    "selections": (v1/*:: as any*/),
    "type": "Query",
    "abstractKey": null
  },
  "kind": "Request",
  "operation": {
    "argumentDefinitions": (v0/*:: as any*/),
    "kind": "Operation",
    "name": "conversationScreenNodesQuery",
    "selections": (v1/*:: as any*/)
  },
  "params": {
    "cacheID": "3c0ef843144699fb1ccc0a11d1fa39dd",
    "id": null,
    "metadata": {},
    "name": "conversationScreenNodesQuery",
    "operationKind": "query",
    "text": "query conversationScreenNodesQuery(\n  $ids: [ID!]!\n) {\n  nodes(ids: $ids) {\n    __typename\n    id\n    ... on User {\n      displayName\n    }\n    ... on Conversation {\n      title\n    }\n    ... on Message {\n      body\n    }\n  }\n}\n"
  }
};
})();

(node as any).hash = "c7ec5d8369cccae1ecc1a2500ba194af";

export default node;
