import type { Executor } from '../db/client.js';
import {
  bumpMemberVersion,
  claimDirectPair,
  deleteConversation,
  deleteMember,
  findConversationView,
  findDirectConversationId,
  insertConversation,
  insertMembers,
  findSuccessor,
  listConversationViews,
  lockConversationForRole,
  setRole,
  type ConversationView,
} from '../db/conversations.js';
import type { MemberRow, UserRow } from '../db/schema.js';
import type { Deps, Session } from './context.js';
import type { Staged, StagedEvent } from './events.js';
import {
  decodeConversationCursor,
  encodeConversationCursor,
  type ConversationCursor,
} from './cursor.js';
import { badInput, checkText, conversationNotFound, notFound } from './errors.js';
import { isUuid, newId } from './ids.js';
import { limits } from './limits.js';
import { parseConnectionArgs, toConnection, type ConnectionArgs } from './pagination.js';
import { parsePhone } from './phone.js';
import { parseEmail } from './email.js';
import { findUserByEmail, findUserById, findUserByPhone } from '../db/users.js';
import { hasBlocked } from '../db/blocks.js';
import { requireAdmin } from './roles.js';
import { systemMessage } from './system-messages.js';
import { usersForPhonesAndIds } from './users.js';

/**
 * The 1:1 conversation of two users, created if needed. The unique key on the ordered pair makes
 * concurrent calls (from either user, on any instance) converge on one conversation.
 */
export async function getOrCreateDirect(
  deps: Deps,
  db: Executor,
  a: string,
  b: string,
): Promise<{ id: string; staged: Staged | null }> {
  const [low, high] = a < b ? [a, b] : [b, a];
  const existing = await findDirectConversationId(db, low, high);
  if (existing) return { id: existing, staged: null };
  return db.transaction(async (tx) => {
    const id = newId();
    await insertConversation(tx, { id, kind: 'DIRECT', title: null });
    if (await claimDirectPair(tx, low, high, id)) {
      await insertMembers(tx, id, [low, high], 0);
      return { id, staged: await stageJoined(deps, tx, id, [low, high]) };
    }
    // Someone else claimed the pair first (their insert committed while ours waited): use theirs.
    await deleteConversation(tx, id);
    const winner = await findDirectConversationId(tx, low, high);
    if (!winner) throw new Error('direct conversation pair claimed but not found');
    return { id: winner, staged: null };
  });
}

/** Announces new members on their own topics, so their "all conversations" streams follow. */
export const joinedEvents = (
  conversationId: string,
  userIds: readonly string[],
  from: { seq: number; changeSeq: number },
): StagedEvent[] =>
  userIds.map((userId) => ({
    conversationId,
    event: {
      type: 'joined' as const,
      conversationId,
      userId,
      fromSeq: from.seq,
      fromChangeSeq: from.changeSeq,
    },
  }));

function stageJoined(
  deps: Deps,
  tx: Executor,
  conversationId: string,
  userIds: readonly string[],
): Promise<Staged> {
  // A new conversation: its streams start at the beginning.
  return deps.events.stage(tx, joinedEvents(conversationId, userIds, { seq: 0, changeSeq: 0 }));
}

/** Tells every instance that what it knows of the member set is older than `version`. */
export const membersChanged = (
  conversationId: string,
  version: number,
  change: { added?: readonly string[]; removed?: readonly string[] } = {},
): StagedEvent => {
  const added = change.added ?? [];
  const removed = change.removed ?? [];
  // Small changes travel with the event (see MembersEvent); a big one makes instances reload.
  const small = added.length + removed.length <= MAX_DELTA;
  return {
    conversationId,
    event: {
      type: 'members',
      conversationId,
      version,
      ...(small && added.length > 0 ? { added: [...added] } : {}),
      ...(small && removed.length > 0 ? { removed: [...removed] } : {}),
    },
  };
};

/** Members named in a `members` event at most (above, instances reload the set instead). */
const MAX_DELTA = 100;

/** Someone to talk to, named by exactly one of their phone, their email address or their id. */
export type OtherUser =
  | { phone: string; field: string }
  | { email: string; field: string }
  | { userId: string; field: string };

/**
 * The user named, who is not the caller. Someone who blocked the caller reads as nobody, NOT_FOUND
 * like an unknown one: the caller is not told they are blocked.
 */
export async function requireOther(deps: Deps, viewerId: string, target: OtherUser) {
  const { field } = target;
  let other: UserRow | undefined;
  let named: string;
  let own: string;
  if ('phone' in target) {
    named = parsePhone(target.phone, field);
    other = await findUserByPhone(deps.db, named);
    own = 'That is your own number';
  } else if ('email' in target) {
    named = parseEmail(target.email, field);
    other = await findUserByEmail(deps.db, named);
    own = 'That is your own email address';
  } else {
    named = `the id "${target.userId.slice(0, 64)}"`;
    other = isUuid(target.userId) ? await findUserById(deps.db, target.userId) : undefined;
    own = 'That is your own id';
  }
  if (other?.id === viewerId) {
    throw badInput(`${own}: a direct conversation needs someone else.`, field);
  }
  if (!other || (await hasBlocked(deps.db, other.id, viewerId))) {
    throw notFound(`No user is registered with ${named}.`);
  }
  return other;
}

/** The user of this phone, who is not the caller (see requireOther). */
export const requireOtherUser = (deps: Deps, viewerId: string, phone: string, field: string) =>
  requireOther(deps, viewerId, { phone, field });

export async function startDirectConversation(
  session: Session,
  input: {
    phone?: string | null | undefined;
    email?: string | null | undefined;
    userId?: string | null | undefined;
  },
): Promise<ConversationView> {
  await session.deps.rateLimiter.consume('startDirectConversation', session.userId);
  const named = (['phone', 'email', 'userId'] as const).filter(
    (k) => input[k] !== null && input[k] !== undefined,
  );
  if (named.length !== 1) {
    throw badInput('Give exactly one of phone, email and userId.', named[1] ?? 'phone');
  }
  const field = named[0]!;
  const value = input[field]!;
  const target: OtherUser =
    field === 'phone'
      ? { phone: value, field }
      : field === 'email'
        ? { email: value, field }
        : { userId: value, field };
  const other = await requireOther(session.deps, session.userId, target);
  const { id, staged } = await getOrCreateDirect(
    session.deps,
    session.deps.db,
    session.userId,
    other.id,
  );
  if (staged) session.deps.events.publish(staged);
  return requireConversation(session, id);
}

export function parseTitle(input: string): string {
  const title = checkText(input, 'title').trim();
  const length = [...title].length;
  if (length < 1 || length > limits.maxTitleLength) {
    throw badInput(`title must be 1–${limits.maxTitleLength} characters.`, 'title');
  }
  return title;
}

export function parseDescription(input: string | null | undefined): string | null {
  if (input === null || input === undefined) return null;
  const description = checkText(input, 'description').trim();
  if ([...description].length > limits.maxDescriptionLength) {
    throw badInput(
      `description must be at most ${limits.maxDescriptionLength} characters.`,
      'description',
    );
  }
  return description === '' ? null : description;
}

export async function createGroupConversation(
  session: Session,
  input: {
    title: string;
    memberPhones?: readonly string[] | null | undefined;
    memberIds?: readonly string[] | null | undefined;
    visibility?: 'PRIVATE' | 'PUBLIC' | null;
    description?: string | null;
  },
): Promise<ConversationView> {
  const title = parseTitle(input.title);
  const description = parseDescription(input.description);
  const others = await usersForPhonesAndIds(
    session,
    { phones: input.memberPhones ?? [], ids: input.memberIds ?? [] },
    { phones: 'memberPhones', ids: 'memberIds' },
  );
  const memberIds = [...new Set([session.userId, ...others.map((u) => u.id)])];
  const id = newId();
  const visibility = input.visibility ?? 'PRIVATE';
  const staged = await session.deps.db.transaction(async (tx) => {
    await insertConversation(tx, { id, kind: 'GROUP', title, description, visibility });
    // The creator owns the group.
    await insertMembers(tx, id, memberIds, 0, session.userId);
    return stageJoined(session.deps, tx, id, memberIds);
  });
  session.deps.events.publish(staged);
  return requireConversation(session, id);
}

/** How many members a group may have: public rooms hold more. */
export const maxMembersOf = (c: { visibility: 'PRIVATE' | 'PUBLIC' }): number =>
  c.visibility === 'PUBLIC' ? limits.maxPublicMembers : limits.maxGroupMembers;

const directHasTwoMembers = () =>
  badInput(
    'A direct conversation has exactly two members: create a group instead.',
    'conversationId',
  );

export async function addMembers(
  session: Session,
  conversationId: string,
  named: {
    phones?: readonly string[] | null | undefined;
    userIds?: readonly string[] | null | undefined;
  },
): Promise<ConversationView> {
  // Membership first: resolving phones before it made any conversation id, even a made-up one,
  // an oracle for which phones are registered (issue 14). Checked again under the lock below.
  const view = await findConversation(session, conversationId);
  if (!view) throw conversationNotFound();
  if (view.kind === 'DIRECT') throw directHasTwoMembers();
  const phones = named.phones ?? [];
  const users = await usersForPhonesAndIds(
    session,
    { phones, ids: named.userIds ?? [] },
    { phones: 'phones', ids: 'userIds' },
  );
  const staged = await session.deps.db.transaction(async (tx) => {
    const conversation = await lockConversationForRole(tx, conversationId, session.userId);
    if (!conversation) throw conversationNotFound();
    if (conversation.kind === 'DIRECT') throw directHasTwoMembers();
    requireAdmin(conversation.role, 'add members');
    const added = await insertMembers(
      tx,
      conversationId,
      users.map((u) => u.id),
      conversation.lastSeq,
    );
    if (added.length === 0) return null;
    // member_count was read under the lock; the trigger keeps it, no need to count again.
    if (conversation.memberCount + added.length > maxMembersOf(conversation)) {
      throw badInput(
        `A group can have at most ${maxMembersOf(conversation)} members.`,
        phones.length > 0 ? 'phones' : 'userIds',
      );
    }
    const version = await bumpMemberVersion(tx, conversationId);
    // The new members' streams start before the system message that records their arrival.
    const from = { seq: conversation.lastSeq, changeSeq: conversation.lastChangeSeq };
    return session.deps.events.stage(tx, [
      membersChanged(conversationId, version, { added }),
      ...joinedEvents(conversationId, added, from),
      await systemMessage(session, tx, conversationId, version, {
        type: 'MEMBERS_ADDED',
        subjectIds: added,
      }),
    ]);
  });
  if (staged) session.deps.events.publish(staged);
  session.loaders.members.clear(conversationId);
  return requireConversation(session, conversationId);
}

export async function leaveConversation(
  session: Session,
  conversationId: string,
): Promise<boolean> {
  if (!isUuid(conversationId)) throw conversationNotFound();
  const staged = await session.deps.db.transaction(async (tx) => {
    const conversation = await lockConversationForRole(tx, conversationId, session.userId);
    if (!conversation) throw conversationNotFound();
    if (conversation.kind === 'DIRECT') {
      throw badInput('Direct conversations cannot be left.', 'conversationId');
    }
    await deleteMember(tx, conversationId, session.userId);
    const version = await bumpMemberVersion(tx, conversationId);
    const event = { type: 'left' as const, conversationId, userId: session.userId };
    const events: StagedEvent[] = [
      membersChanged(conversationId, version, { removed: [session.userId] }),
      { conversationId, event },
      await systemMessage(session, tx, conversationId, version, {
        type: 'MEMBER_LEFT',
        subjectIds: [],
      }),
    ];
    // The last owner leaving hands the group to the oldest admin, else the oldest member.
    const successor =
      conversation.role === 'OWNER' ? await findSuccessor(tx, conversationId) : undefined;
    if (successor) {
      await setRole(tx, conversationId, successor, 'OWNER');
      events.push(
        await systemMessage(session, tx, conversationId, version, {
          type: 'OWNERSHIP_TRANSFERRED',
          subjectIds: [successor],
          role: 'OWNER',
        }),
        {
          conversationId,
          event: { type: 'changed', conversationId, reason: 'ROLES', memberVersion: version },
        },
      );
    }
    return session.deps.events.stage(tx, events);
  });
  session.deps.events.publish(staged);
  session.loaders.members.clear(conversationId);
  return true;
}

/** Its members with their roles and read positions, oldest first; none for an outsider's view. */
export async function membershipsOf(
  session: Session,
  view: ConversationView,
): Promise<MemberRow[]> {
  return view.viewerRole === null ? [] : session.loaders.members.load(view.id);
}

/** A conversation the viewer is in, or null: one that exists without them looks the same as none. */
export async function findConversation(
  session: Session,
  conversationId: string,
): Promise<ConversationView | null> {
  if (!isUuid(conversationId)) return null;
  return (await findConversationView(session.deps.db, conversationId, session.userId)) ?? null;
}

export async function requireConversation(
  session: Session,
  conversationId: string,
): Promise<ConversationView> {
  const view = await findConversation(session, conversationId);
  if (!view) throw conversationNotFound();
  return view;
}

const cursorOf = (c: ConversationView) =>
  encodeConversationCursor({ updatedAtMs: c.updatedAt.getTime(), id: c.id });

const toKey = (c: ConversationCursor | null) =>
  c ? { updatedAt: new Date(c.updatedAtMs), id: c.id } : null;

export async function listConversations(session: Session, args: ConnectionArgs) {
  const window = parseConnectionArgs(args, decodeConversationCursor);
  const db = session.deps.db;
  const query = { after: toKey(window.after), before: toKey(window.before) };
  const rows = await listConversationViews(db, session.userId, {
    ...query,
    direction: window.direction,
    limit: window.size + 1,
  });
  // Relay: when reading forward, hasPreviousPage says whether anything precedes `after` (and
  // backward, hasNextPage whether anything follows `before`). One cheap probe, only when asked.
  const precedes = async (key: typeof query.after) =>
    key !== null &&
    (
      await listConversationViews(db, session.userId, {
        direction: 'forward',
        limit: 1,
        after: null,
        before: key,
      })
    ).length > 0;
  const follows = async (key: typeof query.before) =>
    key !== null &&
    (
      await listConversationViews(db, session.userId, {
        direction: 'forward',
        limit: 1,
        after: key,
        before: null,
      })
    ).length > 0;
  if (window.direction === 'forward') {
    const page = rows.slice(0, window.size);
    const hasNextPage = rows.length > window.size || (await follows(query.before));
    return toConnection(page, cursorOf, await precedes(query.after), hasNextPage);
  }
  const page = rows.slice(Math.max(0, rows.length - window.size));
  const hasPreviousPage = rows.length > window.size || (await precedes(query.after));
  return toConnection(page, cursorOf, hasPreviousPage, await follows(query.before));
}
