import type { CodegenConfig } from '@graphql-codegen/cli';

// Resolver types from schema.graphql. Mappers tie GraphQL types to the rows resolvers return,
// so a resolver returns a database row and field resolvers derive the rest.
const config: CodegenConfig = {
  schema: 'schema.graphql',
  generates: {
    'src/graphql/__generated__/resolvers.ts': {
      plugins: ['typescript', 'typescript-resolvers'],
      config: {
        useTypeImports: true,
        useIndexSignature: false,
        enumsAsTypes: true,
        contextType: '../context.js#GraphQLContext',
        scalars: { DateTime: { input: 'string', output: 'Date | string' } },
        mappers: {
          User: '../../db/schema.js#UserRow',
          Conversation: '../../db/conversations.js#ConversationView',
          Message: '../../db/schema.js#MessageRow',
          Attachment: '../../db/schema.js#AttachmentRow',
          TypingEvent: '../../realtime/events.js#TypingPayload',
          ReadReceipt: '../../realtime/events.js#ReceiptPayload',
          Presence: '../../realtime/events.js#PresencePayload',
        },
      },
    },
  },
};

export default config;
