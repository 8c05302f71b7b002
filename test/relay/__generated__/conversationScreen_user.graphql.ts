/**
 * @generated SignedSource<<76646afa22f9f8e094aa40f4749d8d1c>>
 * @lightSyntaxTransform
 * @codegen-command: npm run codegen
 */

/* tslint:disable */
/* eslint-disable */
// @ts-nocheck

import type { ReaderFragment } from 'relay-runtime';
import type { FragmentRefs } from "relay-runtime";
export type conversationScreen_user$data = {
  readonly displayName: string;
  readonly id: string;
  readonly " $fragmentType": "conversationScreen_user";
};
export type conversationScreen_user$key = {
  readonly " $data"?: conversationScreen_user$data;
  readonly " $fragmentSpreads": FragmentRefs<"conversationScreen_user">;
};

import conversationScreenUserRefetchQuery_graphql from './conversationScreenUserRefetchQuery.graphql';

const node: ReaderFragment = {
  "argumentDefinitions": [],
  "kind": "Fragment",
  "metadata": {
    "refetch": {
      "connection": null,
      "fragmentPathInResult": [
        "node"
      ],
      "operation": conversationScreenUserRefetchQuery_graphql,
      "identifierInfo": {
        "identifierField": "id",
        "identifierQueryVariableName": "id"
      }
    }
  },
  "name": "conversationScreen_user",
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
      "name": "displayName",
      "storageKey": null
    }
  ],
  "type": "User",
  "abstractKey": null
};

(node as any).hash = "021dffd57c092eaa64918e554fe46f4e";

export default node;
