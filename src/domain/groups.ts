// Running a group: removing members, giving roles, changing its details. Each operation locks
// the conversation row, reads the roles it decides on under that lock (domain/roles.ts), makes
// the change, records it as a system message and announces it through the outbox, in one
// transaction. A non-member gets NOT_FOUND, as for any conversation they are not in.
import {
  bumpMemberVersion,
  deleteMember,
  findRole,
  lockConversationForRole,
  setRole,
  updateConversationDetails,
  type ConversationView,
  type MemberRole,
} from '../db/conversations.js';
import { bindAvatar, deleteAvatar, discardBlobs } from '../db/attachments.js';
import { blobKeysOf } from '../storage/blob-store.js';
import type { AttachmentRow, ConversationRow } from '../db/schema.js';
import type { Session } from './context.js';
import {
  membersChanged,
  parseDescription,
  parseTitle,
  requireConversation,
} from './conversations.js';
import { badInput, conversationNotFound, notFound } from './errors.js';
import type { StagedEvent } from './events.js';
import { isUuid } from './ids.js';
import { checkRemoval, checkRoleChange, requireAdmin } from './roles.js';
import { systemMessage } from './system-messages.js';

const notAMember = () => notFound('That user is not a member of this conversation.');

const notInDirect = () =>
  badInput(
    'A direct conversation has no roles or members to manage: use a group.',
    'conversationId',
  );

async function finish(
  session: Session,
  conversationId: string,
  staged: Awaited<ReturnType<Session['deps']['events']['stage']>> | null,
): Promise<ConversationView> {
  if (staged) session.deps.events.publish(staged);
  session.loaders.members.clear(conversationId);
  return requireConversation(session, conversationId);
}

export async function removeMember(
  session: Session,
  conversationId: string,
  userId: string,
): Promise<ConversationView> {
  if (!isUuid(conversationId)) throw conversationNotFound();
  const staged = await session.deps.db.transaction(async (tx) => {
    const conversation = await lockConversationForRole(tx, conversationId, session.userId);
    if (!conversation) throw conversationNotFound();
    if (conversation.kind === 'DIRECT') throw notInDirect();
    const target = isUuid(userId) ? await findRole(tx, conversationId, userId) : undefined;
    if (userId === session.userId) checkRemoval(conversation.role, conversation.role, true);
    if (!target) {
      requireAdmin(conversation.role, 'remove members');
      throw notAMember();
    }
    checkRemoval(conversation.role, target, false);
    await deleteMember(tx, conversationId, userId);
    const version = await bumpMemberVersion(tx, conversationId);
    // After this commits the removed member gets no event of the conversation: every instance
    // brings its member set to this version before it hands on an event made at it or later.
    return session.deps.events.stage(tx, [
      membersChanged(conversationId, version, { removed: [userId] }),
      { conversationId, event: { type: 'left', conversationId, userId } },
      await systemMessage(session, tx, conversationId, version, {
        type: 'MEMBER_REMOVED',
        subjectIds: [userId],
      }),
    ]);
  });
  return finish(session, conversationId, staged);
}

export async function setMemberRole(
  session: Session,
  conversationId: string,
  userId: string,
  role: MemberRole,
): Promise<ConversationView> {
  if (!isUuid(conversationId)) throw conversationNotFound();
  const staged = await session.deps.db.transaction(async (tx) => {
    const conversation = await lockConversationForRole(tx, conversationId, session.userId);
    if (!conversation) throw conversationNotFound();
    if (conversation.kind === 'DIRECT') throw notInDirect();
    const self = userId === session.userId;
    const target = isUuid(userId) ? await findRole(tx, conversationId, userId) : undefined;
    if (!target) {
      checkRoleChange(conversation.role, 'MEMBER', role, self);
      throw notAMember();
    }
    if (!checkRoleChange(conversation.role, target, role, self)) return null;
    const version = conversation.memberVersion;
    let record: StagedEvent;
    if (role === 'OWNER') {
      // One owner at a time (a unique index says so): step down first.
      await setRole(tx, conversationId, session.userId, 'ADMIN');
      await setRole(tx, conversationId, userId, 'OWNER');
      record = await systemMessage(session, tx, conversationId, version, {
        type: 'OWNERSHIP_TRANSFERRED',
        subjectIds: [userId],
        role: 'OWNER',
      });
    } else {
      await setRole(tx, conversationId, userId, role);
      record = await systemMessage(session, tx, conversationId, version, {
        type: 'ROLE_CHANGED',
        subjectIds: [userId],
        role,
      });
    }
    return session.deps.events.stage(tx, [
      record,
      {
        conversationId,
        event: { type: 'changed', conversationId, reason: 'ROLES', memberVersion: version },
      },
    ]);
  });
  return finish(session, conversationId, staged);
}

export interface UpdateConversationInput {
  conversationId: string;
  title?: string | null;
  description?: string | null;
  avatarAttachmentId?: string | null;
  visibility?: 'PRIVATE' | 'PUBLIC' | null;
}

type Details = Partial<
  Pick<ConversationRow, 'title' | 'description' | 'avatarAttachmentId' | 'visibility'>
>;

/** The fields of the input that were given, checked (absent: unchanged; null clears). */
function parseDetails(input: UpdateConversationInput): Details {
  const set: Details = {};
  if (input.title !== undefined) {
    if (input.title === null) throw badInput('A group needs a title.', 'title');
    set.title = parseTitle(input.title);
  }
  if (input.description !== undefined) set.description = parseDescription(input.description);
  if (input.avatarAttachmentId !== undefined) {
    if (input.avatarAttachmentId !== null && !isUuid(input.avatarAttachmentId)) {
      throw notFound('No upload of yours has that id.');
    }
    set.avatarAttachmentId = input.avatarAttachmentId;
  }
  if (input.visibility !== undefined) {
    if (input.visibility === null) throw badInput('visibility cannot be null.', 'visibility');
    set.visibility = input.visibility;
  }
  return set;
}

export async function updateConversation(
  session: Session,
  input: UpdateConversationInput,
): Promise<ConversationView> {
  const { conversationId } = input;
  if (!isUuid(conversationId)) throw conversationNotFound();
  const wanted = parseDetails(input);
  const staged = await session.deps.db.transaction(async (tx) => {
    const conversation = await lockConversationForRole(tx, conversationId, session.userId);
    if (!conversation) throw conversationNotFound();
    if (conversation.kind === 'DIRECT') {
      throw badInput('A direct conversation has no title or picture to change.', 'conversationId');
    }
    requireAdmin(conversation.role, "change the group's details");
    const changed = (Object.keys(wanted) as (keyof Details)[]).filter(
      (k) => wanted[k] !== conversation[k],
    );
    if (changed.length === 0) return null;
    if (changed.includes('avatarAttachmentId')) {
      // The new picture must be an image the caller uploaded and has not sent; the old one's
      // file goes with it.
      if (wanted.avatarAttachmentId) {
        const bound = await bindAvatar(
          tx,
          wanted.avatarAttachmentId,
          session.userId,
          conversationId,
        );
        if (!bound) throw notFound('No image upload of yours that is not sent yet has that id.');
      }
      if (conversation.avatarAttachmentId) {
        const old = await deleteAvatar(tx, conversation.avatarAttachmentId);
        await discardBlobs(tx, old.flatMap(blobKeysOf));
      }
    }
    const set: Details = {};
    for (const k of changed) Object.assign(set, { [k]: wanted[k] });
    await updateConversationDetails(tx, conversationId, set);
    const names: Record<keyof Details, string> = {
      title: 'title',
      description: 'description',
      avatarAttachmentId: 'avatar',
      visibility: 'visibility',
    };
    return session.deps.events.stage(tx, [
      await systemMessage(session, tx, conversationId, conversation.memberVersion, {
        type: 'DETAILS_CHANGED',
        subjectIds: [],
        fields: changed.map((k) => names[k]),
        ...(set.title ? { title: set.title } : {}),
      }),
      {
        conversationId,
        event: {
          type: 'changed',
          conversationId,
          reason: 'DETAILS',
          memberVersion: conversation.memberVersion,
        },
      },
    ]);
  });
  return finish(session, conversationId, staged);
}

/** A group's picture (an image attachment), read with the other pictures of the same request. */
export async function avatarOf(
  session: Session,
  conversation: Pick<ConversationRow, 'avatarAttachmentId'>,
): Promise<AttachmentRow | null> {
  const id = conversation.avatarAttachmentId;
  return id ? ((await session.loaders.attachment.load(id)) ?? null) : null;
}
