import type { CodegenConfig } from '@graphql-codegen/cli';

// Two targets from schema.graphql:
// - resolver types for the server. Mappers tie GraphQL types to the rows resolvers return, so a
//   resolver returns a database row and field resolvers derive the rest;
// - the typed client (client preset): a TypedDocumentNode and result/variables types for each
//   operation in client/operations.
// CODEGEN_OUT_DIR writes both somewhere else (scripts/codegen-check.ts compares that with the
// committed files).
const out = process.env.CODEGEN_OUT_DIR ? `${process.env.CODEGEN_OUT_DIR}/` : '';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  // Relative imports with a .js extension, as NodeNext resolution (and the server) expects.
  emitLegacyCommonJSImports: false,
  generates: {
    [`${out}src/graphql/__generated__/resolvers.ts`]: {
      plugins: ['typescript', 'typescript-resolvers'],
      config: {
        useTypeImports: true,
        useIndexSignature: false,
        enumsAsTypes: true,
        contextType: '../context.js#GraphQLContext',
        scalars: { DateTime: { input: 'string', output: 'Date | string' } },
        mappers: {
          User: '../../db/schema.js#PublicUser',
          Conversation: '../../db/conversations.js#ConversationView',
          Message: '../../db/schema.js#MessageRow',
          Attachment: '../../db/schema.js#AttachmentRow',
          Membership: '../../db/schema.js#MemberRow',
          ReactionGroup: '../../domain/reactions.js#ReactionGroupView',
          Invite: '../../db/schema.js#InviteRow',
          SystemEvent: '../../db/schema.js#SystemEventView',
          ConversationUpdate: '../../realtime/events.js#ConversationUpdatePayload',
          TypingEvent: '../../realtime/events.js#TypingPayload',
          ReadReceipt: '../../realtime/events.js#ReceiptPayload',
          Presence: '../../realtime/events.js#PresencePayload',
        },
      },
    },
    [`${out}client/src/gql/`]: {
      documents: 'client/operations/**/*.graphql',
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        skipTypename: true,
        scalars: { DateTime: 'string' },
      },
    },
  },
};

export default config;
