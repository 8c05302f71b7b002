// Invite codes and joining groups. An OWNER or ADMIN makes a code (128 random bits) that lets
// anyone signed in join, until it expires, is used up or is revoked; a PUBLIC group can be
// joined by its id alone. A code that does not work is NOT_FOUND whatever the reason, so codes
// cannot be probed, and joins are rate-limited per user, so they cannot be guessed either.
// Everything is decided under the group's row lock, in one transaction with the change.
import { randomBytes } from 'node:crypto';
import { bumpMemberVersion, insertMembers, lockConversationForRole } from '../db/conversations.js';
import type { ConversationView } from '../db/conversations.js';
import {
  consumeInvite,
  countWorkingInvites,
  findInviteConversationId,
  insertInvite,
  lockConversationForJoin,
  revokeInviteCode,
} from '../db/invites.js';
import type { InviteRow } from '../db/schema.js';
import type { Session } from './context.js';
import {
  joinedEvents,
  maxMembersOf,
  membersChanged,
  requireConversation,
} from './conversations.js';
import { badInput, conversationNotFound, notFound } from './errors.js';
import { isUuid } from './ids.js';
import { limits } from './limits.js';
import { requireAdmin } from './roles.js';
import { systemMessage } from './system-messages.js';

/** Joins one invite code may allow (null: any number). */
export const maxInviteUses = 100_000;

/** 16 random bytes in base64url: 22 characters. */
const CODE = /^[A-Za-z0-9_-]{22}$/;

const newCode = (): string => randomBytes(16).toString('base64url');

const inviteNotWorking = () =>
  notFound('Invite code not found: it does not exist, was revoked, has expired or is used up.');

const inviteNotFound = () =>
  notFound('Invite code not found (it does not exist or you are not a member of its group).');

const noPublicGroup = () => notFound('No public group has that id.');

function parseExpiresAt(expiresAt: Date | null): Date | null {
  if (expiresAt === null) return null;
  if (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= Date.now()) {
    throw badInput('expiresAt must be in the future (or null: until revoked).', 'expiresAt');
  }
  return expiresAt;
}

function parseMaxUses(maxUses: number | null): number | null {
  if (maxUses === null) return null;
  if (!Number.isInteger(maxUses) || maxUses < 1 || maxUses > maxInviteUses) {
    throw badInput(
      `maxUses must be a whole number from 1 to ${maxInviteUses} (or null: any number).`,
      'maxUses',
    );
  }
  return maxUses;
}

export async function createInvite(
  session: Session,
  conversationId: string,
  expiresAtInput: Date | null,
  maxUsesInput: number | null,
): Promise<InviteRow> {
  const expiresAt = parseExpiresAt(expiresAtInput);
  const usesLeft = parseMaxUses(maxUsesInput);
  if (!isUuid(conversationId)) throw conversationNotFound();
  await session.deps.rateLimiter.consume('createInvite', session.userId);
  return session.deps.db.transaction(async (tx) => {
    const conversation = await lockConversationForRole(tx, conversationId, session.userId);
    if (!conversation) throw conversationNotFound();
    if (conversation.kind === 'DIRECT') {
      throw badInput('A direct conversation has no invites: create a group.', 'conversationId');
    }
    requireAdmin(conversation.role, 'make invite codes');
    if ((await countWorkingInvites(tx, conversationId)) >= limits.maxActiveInvites) {
      throw badInput(
        `A group can have at most ${limits.maxActiveInvites} working invite codes: revoke one first.`,
        'conversationId',
      );
    }
    return insertInvite(tx, {
      code: newCode(),
      conversationId,
      createdBy: session.userId,
      expiresAt,
      usesLeft,
    });
  });
}

/** Stops a code working; false when it was revoked already. */
export async function revokeInvite(session: Session, codeInput: string): Promise<boolean> {
  const code = codeInput.trim();
  if (!CODE.test(code)) throw inviteNotFound();
  return session.deps.db.transaction(async (tx) => {
    const conversationId = await findInviteConversationId(tx, code);
    if (!conversationId) throw inviteNotFound();
    // A code of a group the caller is not in reads like an unknown one.
    const conversation = await lockConversationForRole(tx, conversationId, session.userId);
    if (!conversation) throw inviteNotFound();
    requireAdmin(conversation.role, 'revoke invite codes');
    return revokeInviteCode(tx, code);
  });
}

export interface JoinInput {
  conversationId?: string | null | undefined;
  inviteCode?: string | null | undefined;
}

/**
 * Joins a group with an invite code, or a PUBLIC group by id. Someone already in it gets it
 * back and uses nothing. The code's use, the membership and the system message commit together:
 * a join refused (the group is full) uses nothing.
 */
export async function joinConversation(
  session: Session,
  input: JoinInput,
): Promise<ConversationView> {
  const byId = input.conversationId !== null && input.conversationId !== undefined;
  const byCode = input.inviteCode !== null && input.inviteCode !== undefined;
  if (byId === byCode) {
    throw badInput(
      'Give exactly one of conversationId (a public group) or inviteCode.',
      byId ? 'inviteCode' : 'conversationId',
    );
  }
  await session.deps.rateLimiter.consume('joinConversation', session.userId);
  const code = byCode ? input.inviteCode!.trim() : null;
  const field = byCode ? 'inviteCode' : 'conversationId';
  const { conversationId, staged } = await session.deps.db.transaction(async (tx) => {
    // Through `tx` only: on PGlite (one connection) a query beside the transaction would wait
    // for it forever.
    let conversationId: string;
    if (code !== null) {
      if (!CODE.test(code)) throw inviteNotWorking();
      const found = await findInviteConversationId(tx, code);
      if (!found) throw inviteNotWorking();
      conversationId = found;
    } else {
      conversationId = input.conversationId!;
      if (!isUuid(conversationId)) throw noPublicGroup();
    }
    // The group's lock first (as every membership change takes it), then the code's use.
    const conversation = await lockConversationForJoin(tx, conversationId, session.userId);
    if (!conversation) throw code !== null ? inviteNotWorking() : noPublicGroup();
    if (conversation.role !== null) return { conversationId, staged: null };
    if (code === null && conversation.visibility !== 'PUBLIC') throw noPublicGroup();
    if (code !== null && (await consumeInvite(tx, code)) !== conversationId) {
      throw inviteNotWorking();
    }
    if (conversation.memberCount >= maxMembersOf(conversation)) {
      throw badInput(
        `This group is full: it can have at most ${maxMembersOf(conversation)} members.`,
        field,
      );
    }
    const added = await insertMembers(tx, conversationId, [session.userId], conversation.lastSeq);
    const version = await bumpMemberVersion(tx, conversationId);
    // The joiner's streams start before the system message that records their arrival.
    const from = { seq: conversation.lastSeq, changeSeq: conversation.lastChangeSeq };
    const staged = await session.deps.events.stage(tx, [
      membersChanged(conversationId, version, { added }),
      ...joinedEvents(conversationId, added, from),
      await systemMessage(session, tx, conversationId, version, {
        type: 'MEMBER_JOINED',
        subjectIds: [],
      }),
    ]);
    return { conversationId, staged };
  });
  if (staged) {
    session.deps.events.publish(staged);
    session.loaders.members.clear(conversationId);
  }
  return requireConversation(session, conversationId);
}
