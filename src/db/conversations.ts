import { and, asc, desc, eq, getTableColumns, or, sql, type SQL } from 'drizzle-orm';
import { pairIn, pgArray, prepareOnce, queryRows, type Executor } from './client.js';
import {
  conversationMembers,
  conversations,
  directConversations,
  type ConversationRow,
  type MemberRow,
} from './schema.js';

export type MemberRole = MemberRow['role'];

/**
 * A conversation as one user sees it: the row plus that user's membership (role, read position).
 * `viewerRole` is null when they are not a member: a public group they look at, or one they
 * just left (conversationUpdated REMOVED); then the viewer fields are zero.
 */
export type ConversationView = ConversationRow & {
  readonly viewerLastReadSeq: number;
  readonly viewerLastDeliveredSeq: number;
  /** As stored: a time, 'infinity' (until unmuted), or null. */
  readonly viewerMutedUntil: string | null;
  readonly viewerRole: MemberRole | null;
};

const viewColumns = {
  ...getTableColumns(conversations),
  viewerLastReadSeq: conversationMembers.lastReadSeq,
  viewerLastDeliveredSeq: conversationMembers.lastDeliveredSeq,
  viewerMutedUntil: conversationMembers.mutedUntil,
  viewerRole: conversationMembers.role,
};

/** The view of a conversation for someone who is not a member of it. */
export const outsiderView = (row: ConversationRow): ConversationView => ({
  ...row,
  viewerLastReadSeq: 0,
  viewerLastDeliveredSeq: 0,
  viewerMutedUntil: null,
  viewerRole: null,
});

export async function findConversationRow(
  db: Executor,
  conversationId: string,
): Promise<ConversationRow | undefined> {
  const [row] = await db.select().from(conversations).where(eq(conversations.id, conversationId));
  return row;
}

/** Mutes (a time, or 'infinity') or unmutes (null) a conversation for a member; false: not one. */
export async function setMutedUntil(
  db: Executor,
  conversationId: string,
  userId: string,
  until: string | null,
): Promise<boolean> {
  const rows = await db
    .update(conversationMembers)
    .set({ mutedUntil: until })
    .where(
      and(
        eq(conversationMembers.conversationId, conversationId),
        eq(conversationMembers.userId, userId),
      ),
    )
    .returning({ userId: conversationMembers.userId });
  return rows.length > 0;
}

const memberOf = (userId: string) =>
  and(
    eq(conversationMembers.conversationId, conversations.id),
    eq(conversationMembers.userId, userId),
  );

const viewQuery = prepareOnce((db) =>
  db
    .select(viewColumns)
    .from(conversations)
    .innerJoin(
      conversationMembers,
      and(
        eq(conversationMembers.conversationId, conversations.id),
        eq(conversationMembers.userId, sql.placeholder('userId')),
      ),
    )
    .where(eq(conversations.id, sql.placeholder('conversationId')))
    .limit(1)
    .prepare('conversation_view'),
);

export async function findConversationView(
  db: Executor,
  conversationId: string,
  userId: string,
): Promise<ConversationView | undefined> {
  const [row] = await viewQuery(db).execute({ conversationId, userId });
  return row;
}

/** The conversations among `conversationIds` that `userId` is a member of, as that member sees them. */
export function findConversationViews(
  db: Executor,
  conversationIds: readonly string[],
  userId: string,
): Promise<ConversationView[]> {
  if (conversationIds.length === 0) return Promise.resolve([]);
  return db
    .select(viewColumns)
    .from(conversations)
    .innerJoin(conversationMembers, memberOf(userId))
    .where(sql`${conversations.id} = any(${pgArray(conversationIds, 'uuid')})`);
}

/**
 * One conversation as each of `userIds` who is a member sees it, by user: the views that one
 * change of a room hands to its members' subscriptions, in one statement.
 */
export async function findConversationViewsOfUsers(
  db: Executor,
  conversationId: string,
  userIds: readonly string[],
): Promise<Map<string, ConversationView>> {
  if (userIds.length === 0) return new Map();
  const rows = await db
    .select({ ...viewColumns, viewerId: conversationMembers.userId })
    .from(conversationMembers)
    .innerJoin(conversations, eq(conversations.id, conversationMembers.conversationId))
    .where(
      and(
        eq(conversationMembers.conversationId, conversationId),
        sql`${conversationMembers.userId} = any(${pgArray(userIds, 'uuid')})`,
      ),
    );
  return new Map(rows.map(({ viewerId, ...view }) => [viewerId, view]));
}

/**
 * Locks the conversation row (so changes of one conversation serialize) and returns it with
 * the member's role; undefined when `userId` is not a member. The role is read by a second
 * statement, after the lock is held: read in the locking statement it would come from that
 * statement's snapshot, taken before waiting for the lock, and miss what the transaction that
 * held it changed (PostgreSQL re-checks only the locked row) — two admins removing each other
 * at once would both succeed.
 */
export async function lockConversationForRole(
  db: Executor,
  conversationId: string,
  userId: string,
): Promise<(ConversationRow & { role: MemberRole }) | undefined> {
  const [row] = await db
    .select()
    .from(conversations)
    .where(eq(conversations.id, conversationId))
    .for('update');
  if (!row) return undefined;
  const role = await findRole(db, conversationId, userId);
  return role ? { ...row, role } : undefined;
}

/** A member's role (under the conversation's lock, to decide on it); undefined: not a member. */
export async function findRole(
  db: Executor,
  conversationId: string,
  userId: string,
): Promise<MemberRole | undefined> {
  const [row] = await db
    .select({ role: conversationMembers.role })
    .from(conversationMembers)
    .where(
      and(
        eq(conversationMembers.conversationId, conversationId),
        eq(conversationMembers.userId, userId),
      ),
    );
  return row?.role;
}

export async function setRole(
  db: Executor,
  conversationId: string,
  userId: string,
  role: MemberRole,
): Promise<void> {
  await db
    .update(conversationMembers)
    .set({ role })
    .where(
      and(
        eq(conversationMembers.conversationId, conversationId),
        eq(conversationMembers.userId, userId),
      ),
    );
}

/** Who takes a group over from its leaving owner: the oldest admin, else the oldest member. */
export async function findSuccessor(
  db: Executor,
  conversationId: string,
): Promise<string | undefined> {
  const [row] = await db
    .select({ userId: conversationMembers.userId })
    .from(conversationMembers)
    .where(
      and(
        eq(conversationMembers.conversationId, conversationId),
        sql`${conversationMembers.role} <> 'OWNER'`,
      ),
    )
    .orderBy(
      sql`${conversationMembers.role} = 'ADMIN' desc`,
      asc(conversationMembers.joinedAt),
      asc(conversationMembers.userId),
    )
    .limit(1);
  return row?.userId;
}

export async function updateConversationDetails(
  db: Executor,
  conversationId: string,
  set: Partial<
    Pick<ConversationRow, 'title' | 'description' | 'avatarAttachmentId' | 'visibility'>
  >,
): Promise<void> {
  await db.update(conversations).set(set).where(eq(conversations.id, conversationId));
}

/** Marks a change of the member set (under the conversation's lock); returns the new version. */
export async function bumpMemberVersion(db: Executor, conversationId: string): Promise<number> {
  const [row] = await db
    .update(conversations)
    .set({ memberVersion: sql`${conversations.memberVersion} + 1` })
    .where(eq(conversations.id, conversationId))
    .returning({ version: conversations.memberVersion });
  return row!.version;
}

/** The member set of each conversation and its version (absent: no such conversation). */
export async function findMemberSets(
  db: Executor,
  conversationIds: readonly string[],
): Promise<Map<string, { version: number; userIds: Set<string> }>> {
  const rows = await queryRows<{ id: string; version: number; user_ids: string[] | null }>(
    db,
    sql`select c.id, c.member_version as version,
               array(select m.user_id from conversation_members m where m.conversation_id = c.id) as user_ids
          from conversations c
         where c.id = any(${pgArray(conversationIds, 'uuid')})`,
  );
  return new Map(
    rows.map((r) => [r.id, { version: Number(r.version), userIds: new Set(r.user_ids ?? []) }]),
  );
}

export async function findDirectConversationId(
  db: Executor,
  userLow: string,
  userHigh: string,
): Promise<string | undefined> {
  const [row] = await db
    .select({ id: directConversations.conversationId })
    .from(directConversations)
    .where(
      and(eq(directConversations.userLow, userLow), eq(directConversations.userHigh, userHigh)),
    );
  return row?.id;
}

/** True when this call claimed the pair; false when another conversation already holds it. */
export async function claimDirectPair(
  db: Executor,
  userLow: string,
  userHigh: string,
  conversationId: string,
): Promise<boolean> {
  const rows = await db
    .insert(directConversations)
    .values({ userLow, userHigh, conversationId })
    .onConflictDoNothing()
    .returning({ id: directConversations.conversationId });
  return rows.length === 1;
}

export async function insertConversation(
  db: Executor,
  row: {
    id: string;
    kind: 'DIRECT' | 'GROUP';
    title: string | null;
    description?: string | null;
    visibility?: 'PRIVATE' | 'PUBLIC';
  },
): Promise<void> {
  await db.insert(conversations).values(row);
}

export async function deleteConversation(db: Executor, id: string): Promise<void> {
  await db.delete(conversations).where(eq(conversations.id, id));
}

/**
 * Adds members who are not in yet; they start with everything so far read. Returns who was
 * added. `owner` (a new group's creator) joins as OWNER, everyone else as MEMBER.
 */
export async function insertMembers(
  db: Executor,
  conversationId: string,
  userIds: readonly string[],
  readUpToSeq: number,
  owner?: string,
): Promise<string[]> {
  if (userIds.length === 0) return [];
  const rows = await db
    .insert(conversationMembers)
    .values(
      userIds.map((userId) => ({
        conversationId,
        userId,
        role: userId === owner ? ('OWNER' as const) : ('MEMBER' as const),
        lastReadSeq: readUpToSeq,
        lastDeliveredSeq: readUpToSeq,
        joinedSeq: readUpToSeq,
        joinedChangeSeq: sql`(select ${conversations.lastChangeSeq} from ${conversations} where ${conversations.id} = ${conversationId})`,
      })),
    )
    .onConflictDoNothing()
    .returning({ userId: conversationMembers.userId });
  return rows.map((r) => r.userId);
}

export async function deleteMember(
  db: Executor,
  conversationId: string,
  userId: string,
): Promise<boolean> {
  const rows = await db
    .delete(conversationMembers)
    .where(
      and(
        eq(conversationMembers.conversationId, conversationId),
        eq(conversationMembers.userId, userId),
      ),
    )
    .returning({ userId: conversationMembers.userId });
  return rows.length === 1;
}

export function findMembers(
  db: Executor,
  conversationIds: readonly string[],
): Promise<MemberRow[]> {
  if (conversationIds.length === 0) return Promise.resolve([]);
  return db
    .select()
    .from(conversationMembers)
    .where(sql`${conversationMembers.conversationId} = any(${pgArray(conversationIds, 'uuid')})`)
    .orderBy(asc(conversationMembers.joinedAt), asc(conversationMembers.userId));
}

export interface ConversationPageQuery {
  direction: 'forward' | 'backward';
  limit: number;
  after: { updatedAt: Date; id: string } | null;
  before: { updatedAt: Date; id: string } | null;
}

/**
 * One page of a member's conversations in list order (latest activity first, then id), returned
 * in list order whichever direction it was read in.
 */
export async function listConversationViews(
  db: Executor,
  userId: string,
  q: ConversationPageQuery,
): Promise<ConversationView[]> {
  const conds: (SQL | undefined)[] = [eq(conversationMembers.userId, userId)];
  // List order is (updated_at desc, id desc): "after" a key means strictly later in that order.
  if (q.after) conds.push(laterInList(q.after));
  if (q.before) conds.push(earlierInList(q.before));
  const forward = q.direction === 'forward';
  const rows = await db
    .select(viewColumns)
    .from(conversationMembers)
    .innerJoin(conversations, eq(conversations.id, conversationMembers.conversationId))
    .where(and(...conds))
    .orderBy(
      forward ? desc(conversations.updatedAt) : asc(conversations.updatedAt),
      forward ? desc(conversations.id) : asc(conversations.id),
    )
    .limit(q.limit);
  return forward ? rows : rows.reverse();
}

function laterInList(k: { updatedAt: Date; id: string }): SQL | undefined {
  return or(
    sql`${conversations.updatedAt} < ${k.updatedAt.toISOString()}`,
    and(
      sql`${conversations.updatedAt} = ${k.updatedAt.toISOString()}`,
      sql`${conversations.id} < ${k.id}`,
    ),
  );
}

function earlierInList(k: { updatedAt: Date; id: string }): SQL | undefined {
  return or(
    sql`${conversations.updatedAt} > ${k.updatedAt.toISOString()}`,
    and(
      sql`${conversations.updatedAt} = ${k.updatedAt.toISOString()}`,
      sql`${conversations.id} > ${k.id}`,
    ),
  );
}

/**
 * Moves a member's read position back to `seq` (never forwards); returns it after the change, or
 * undefined when the user is not a member.
 */
export async function rewindRead(
  db: Executor,
  conversationId: string,
  userId: string,
  seq: number,
): Promise<{ lastReadSeq: number; lastDeliveredSeq: number } | undefined> {
  const [row] = await db
    .update(conversationMembers)
    .set({
      lastReadSeq: sql`least(${conversationMembers.lastReadSeq}, ${seq})`,
      lastReadAt: sql`now()`,
    })
    .where(
      and(
        eq(conversationMembers.conversationId, conversationId),
        eq(conversationMembers.userId, userId),
      ),
    )
    .returning({
      lastReadSeq: conversationMembers.lastReadSeq,
      lastDeliveredSeq: conversationMembers.lastDeliveredSeq,
    });
  return row;
}

/** Unread messages over all of a user's conversations (muted ones included). */
export async function totalUnread(db: Executor, userId: string): Promise<number> {
  const [row] = await queryRows<{ n: number | string }>(
    db,
    sql`select coalesce(sum(c.last_seq - m.last_read_seq), 0)::int as n
          from conversation_members m
          join conversations c on c.id = m.conversation_id
         where m.user_id = ${userId}::uuid and c.last_seq > m.last_read_seq`,
  );
  return Number(row?.n ?? 0);
}

/**
 * Advances a member's read (and delivered) position, never backwards; returns the positions
 * after the change, or undefined when the user is not a member.
 */
export async function advanceRead(
  db: Executor,
  conversationId: string,
  userId: string,
  seq: number,
): Promise<{ lastReadSeq: number; lastDeliveredSeq: number } | undefined> {
  const [row] = await db
    .update(conversationMembers)
    .set({
      lastReadSeq: sql`greatest(${conversationMembers.lastReadSeq}, ${seq})`,
      lastDeliveredSeq: sql`greatest(${conversationMembers.lastDeliveredSeq}, ${seq})`,
      lastReadAt: sql`case when ${conversationMembers.lastReadSeq} < ${seq} then now() else ${conversationMembers.lastReadAt} end`,
    })
    .where(
      and(
        eq(conversationMembers.conversationId, conversationId),
        eq(conversationMembers.userId, userId),
      ),
    )
    .returning({
      lastReadSeq: conversationMembers.lastReadSeq,
      lastDeliveredSeq: conversationMembers.lastDeliveredSeq,
    });
  return row;
}

/** The newest message seq and the newest change position of a conversation (0 when none). */
export async function positionsOf(
  db: Executor,
  conversationId: string,
): Promise<{ lastSeq: number; lastChangeSeq: number }> {
  const [row] = await db
    .select({ lastSeq: conversations.lastSeq, lastChangeSeq: conversations.lastChangeSeq })
    .from(conversations)
    .where(eq(conversations.id, conversationId));
  return row ?? { lastSeq: 0, lastChangeSeq: 0 };
}

export interface MemberConversation {
  conversationId: string;
  lastSeq: number;
  lastChangeSeq: number;
  /** What was delivered to the member. */
  lastDeliveredSeq: number;
  /** The conversation's positions when the member joined. */
  joinedSeq: number;
  joinedChangeSeq: number;
}

/** Every conversation of a member, with its newest positions and the member's own. */
export function findMemberConversations(
  db: Executor,
  userId: string,
): Promise<MemberConversation[]> {
  return db
    .select({
      conversationId: conversationMembers.conversationId,
      lastSeq: conversations.lastSeq,
      lastChangeSeq: conversations.lastChangeSeq,
      lastDeliveredSeq: conversationMembers.lastDeliveredSeq,
      joinedSeq: conversationMembers.joinedSeq,
      joinedChangeSeq: conversationMembers.joinedChangeSeq,
    })
    .from(conversationMembers)
    .innerJoin(conversations, eq(conversations.id, conversationMembers.conversationId))
    .where(eq(conversationMembers.userId, userId));
}

/** Which of these (conversation, user) pairs are memberships now. */
export async function findMemberships(
  db: Executor,
  pairs: readonly { conversationId: string; userId: string }[],
): Promise<Set<string>> {
  if (pairs.length === 0) return new Set();
  const rows = await db
    .select({ c: conversationMembers.conversationId, u: conversationMembers.userId })
    .from(conversationMembers)
    .where(
      pairIn(
        [conversationMembers.conversationId, conversationMembers.userId],
        pairs,
        [(p) => p.conversationId, 'uuid'],
        [(p) => p.userId, 'uuid'],
      ),
    );
  return new Set(rows.map((r) => `${r.c}:${r.u}`));
}

/** Advances delivered positions of several members at once; never backwards. */
export async function advanceDeliveredMany(
  db: Executor,
  rows: readonly { conversationId: string; userId: string; seq: number }[],
): Promise<void> {
  if (rows.length === 0) return;
  const conversationIds = pgArray(
    rows.map((r) => r.conversationId),
    'uuid',
  );
  const userIds = pgArray(
    rows.map((r) => r.userId),
    'uuid',
  );
  const seqs = pgArray(
    rows.map((r) => r.seq),
    'int',
  );
  await db.execute(sql`
    update conversation_members m
       set last_delivered_seq = v.seq
      from unnest(${conversationIds}, ${userIds}, ${seqs}) as v(conversation_id, user_id, seq)
     where m.conversation_id = v.conversation_id
       and m.user_id = v.user_id
       and m.last_delivered_seq < v.seq`);
}

/** Which of `viewerIds` share a conversation with each of `userIds`, as (user, viewer) pairs. */
export async function findContactsAmong(
  db: Executor,
  userIds: readonly string[],
  viewerIds: readonly string[],
): Promise<{ userId: string; viewerId: string }[]> {
  if (userIds.length === 0 || viewerIds.length === 0) return [];
  const rows = await queryRows<{ user_id: string; viewer_id: string }>(
    db,
    sql`select distinct changed.user_id, viewer.user_id as viewer_id
          from conversation_members changed
          join conversation_members viewer on viewer.conversation_id = changed.conversation_id
         where changed.user_id = any(${pgArray(userIds, 'uuid')})
           and viewer.user_id = any(${pgArray(viewerIds, 'uuid')})
           and viewer.user_id <> changed.user_id
           and not exists (select 1 from user_blocks ub
                            where ub.blocker_id = changed.user_id and ub.blocked_id = viewer.user_id)`,
  );
  return rows.map((r) => ({ userId: r.user_id, viewerId: r.viewer_id }));
}

/** Which (viewer, user) pairs share a conversation now. */
export async function findContactPairs(
  db: Executor,
  pairs: readonly { viewerId: string; userId: string }[],
): Promise<Set<string>> {
  if (pairs.length === 0) return new Set();
  const viewerIds = pgArray(
    pairs.map((p) => p.viewerId),
    'uuid',
  );
  const userIds = pgArray(
    pairs.map((p) => p.userId),
    'uuid',
  );
  const rows = await queryRows<{ viewer_id: string; user_id: string }>(
    db,
    sql`select distinct v.viewer_id, v.user_id
          from unnest(${viewerIds}, ${userIds}) as v(viewer_id, user_id)
          join conversation_members a on a.user_id = v.viewer_id
          join conversation_members b on b.conversation_id = a.conversation_id and b.user_id = v.user_id
         where not exists (select 1 from user_blocks ub
                            where ub.blocker_id = v.user_id and ub.blocked_id = v.viewer_id)`,
  );
  return new Set(rows.map((r) => `${r.viewer_id}:${r.user_id}`));
}
