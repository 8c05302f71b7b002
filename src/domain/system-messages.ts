// System messages: each change of a group's members, roles or details is a message in its
// history (kind SYSTEM), with the next seq like any message, so every client sees who did what
// to whom, in order. Written in the transaction that makes the change, under the conversation's
// lock, and announced like any message (its outbox record says "system": no push for it).
import type { Executor } from '../db/client.js';
import { insertSystemMessage } from '../db/messages.js';
import { findUsersByIds } from '../db/users.js';
import type { SystemEventData } from '../db/schema.js';
import type { Session } from './context.js';
import { messageEvent, type StagedEvent } from './events.js';

/**
 * Appends a system message made by the session's user and returns its event, to stage with the
 * change's other events. `memberVersion`: the member set version after the change.
 */
export async function systemMessage(
  session: Session,
  tx: Executor,
  conversationId: string,
  memberVersion: number,
  event: SystemEventData,
): Promise<StagedEvent> {
  // Through the transaction: on PGlite (one connection) a query beside it would wait for it.
  const [actor] = await findUsersByIds(tx, [session.userId]);
  if (!actor) throw new Error('signed-in user not found');
  // Whoever joined knows it: the message of their own arrival is not unread for them.
  const joined = event.type === 'MEMBERS_ADDED' || event.type === 'MEMBER_JOINED';
  const row = await insertSystemMessage(
    tx,
    conversationId,
    session.userId,
    event,
    joined ? event.subjectIds : [],
  );
  return {
    conversationId,
    event: messageEvent('messageAdded', row, {
      sender: { id: actor.id, phone: actor.phone, displayName: actor.displayName },
      memberVersion,
    }),
  };
}
