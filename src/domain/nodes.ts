// Relay object identification: a user, a conversation or a message by its id alone, with the
// same privacy as the rest of the API. Ids keep the formats clients already store (UUIDs for
// users and conversations, the 27-character message id of ids.ts), so the shape of an id says
// whether it can be a message; a UUID is looked up as a user and as a conversation at once. Every
// lookup goes through the request's DataLoaders: `nodes` with 100 ids costs one statement per
// kind (users, conversations, messages), not one per id.
import type { ConversationView } from '../db/conversations.js';
import type { MessageRow, PublicUser } from '../db/schema.js';
import type { Session } from './context.js';
import { badInput } from './errors.js';
import { decodeMessageId, isUuid, type MessageKey } from './ids.js';
import { limits } from './limits.js';

export type NodeRow = PublicUser | ConversationView | MessageRow;

export type NodeType = 'User' | 'Conversation' | 'Message';

/** Which type a loaded node is (the rows of the three kinds have different columns). */
export function nodeTypeOf(node: NodeRow): NodeType {
  if ('senderId' in node) return 'Message';
  if ('viewerLastReadSeq' in node) return 'Conversation';
  return 'User';
}

/**
 * The object with this id, or null when there is none or the viewer may not see it: any signed-in
 * user sees any user (as `userByPhone` does); conversations and their messages only their current
 * members see (as `conversation` and `messages` do). A string that is no id is null as well.
 */
export async function findNode(session: Session, id: string): Promise<NodeRow | null> {
  const key = decodeMessageId(id);
  if (key) return visibleMessage(session, key);
  if (!isUuid(id)) return null;
  const [user, conversation] = await Promise.all([
    session.loaders.user.load(id),
    session.loaders.conversation.load(id),
  ]);
  return user ?? conversation ?? null;
}

/** `findNode` for each id, in order; more than `maxNodesPerCall` ids is BAD_USER_INPUT. */
export async function findNodes(
  session: Session,
  ids: readonly string[],
): Promise<(NodeRow | null)[]> {
  if (ids.length > limits.maxNodesPerCall) {
    throw badInput(
      `At most ${limits.maxNodesPerCall} ids per call (got ${ids.length}): ask in several calls.`,
      'ids',
    );
  }
  // Every load starts in this tick, so each loader batches all of them into one statement.
  return Promise.all(ids.map((id) => findNode(session, id)));
}

async function visibleMessage(session: Session, key: MessageKey): Promise<MessageRow | null> {
  const [view, message] = await Promise.all([
    session.loaders.conversation.load(key.conversationId),
    session.loaders.message.load(key),
  ]);
  if (!view || !message) return null;
  // Handed to the viewer by a query: delivered (written only when it moves their mark).
  if (message.seq > view.viewerLastDeliveredSeq) await session.loaders.delivered.load(key);
  return message;
}
