// The directory of PUBLIC groups, largest first: read along conversations_public_idx
// (member_count desc, id where visibility = 'PUBLIC'), so a page costs its own rows whatever
// the number of groups.
import { and, asc, eq, or, sql, type SQL } from 'drizzle-orm';
import type { Executor } from './client.js';
import { outsiderView, type ConversationView } from './conversations.js';
import { conversationMembers, conversations } from './schema.js';

/** A place in the directory: its sort key. */
export interface PublicKey {
  memberCount: number;
  id: string;
}

export interface PublicPageQuery {
  /** An ILIKE pattern matched against the title and the description; null: every group. */
  pattern: string | null;
  /** Rows strictly after this key. */
  after: PublicKey | null;
  limit: number;
}

/**
 * After `k` in directory order: fewer members, or as many and a greater id. The first condition
 * bounds the index scan (it starts at `k` instead of filtering everything before it).
 */
const afterKey = (k: PublicKey): SQL | undefined =>
  and(
    sql`${conversations.memberCount} <= ${k.memberCount}`,
    or(sql`${conversations.memberCount} < ${k.memberCount}`, sql`${conversations.id} > ${k.id}`),
  );

/** At or before `k` in directory order. */
const upToKey = (k: PublicKey): SQL | undefined =>
  and(
    sql`${conversations.memberCount} >= ${k.memberCount}`,
    or(sql`${conversations.memberCount} > ${k.memberCount}`, sql`${conversations.id} <= ${k.id}`),
  );

const matching = (pattern: string | null): SQL | undefined =>
  pattern === null
    ? undefined
    : or(
        sql`${conversations.title} ilike ${pattern}`,
        sql`${conversations.description} ilike ${pattern}`,
      );

/**
 * One page of PUBLIC groups in directory order, each as `viewerId` sees it: with their
 * membership where they are a member, else as an outsider.
 */
export async function listPublicConversations(
  db: Executor,
  viewerId: string,
  q: PublicPageQuery,
): Promise<ConversationView[]> {
  const rows = await db
    .select({
      conversation: conversations,
      member: {
        lastReadSeq: conversationMembers.lastReadSeq,
        lastDeliveredSeq: conversationMembers.lastDeliveredSeq,
        mutedUntil: conversationMembers.mutedUntil,
        role: conversationMembers.role,
      },
    })
    .from(conversations)
    .leftJoin(
      conversationMembers,
      and(
        eq(conversationMembers.conversationId, conversations.id),
        eq(conversationMembers.userId, viewerId),
      ),
    )
    .where(
      and(
        eq(conversations.visibility, 'PUBLIC'),
        q.after ? afterKey(q.after) : undefined,
        matching(q.pattern),
      ),
    )
    // NULLS LAST as the index has it (member_count is never null, but the planner only walks
    // the index for the very order it was built in; without it, it sorts every match).
    .orderBy(sql`${conversations.memberCount} desc nulls last`, asc(conversations.id))
    .limit(q.limit);
  return rows.map(({ conversation, member }) =>
    member
      ? {
          ...conversation,
          viewerLastReadSeq: member.lastReadSeq,
          viewerLastDeliveredSeq: member.lastDeliveredSeq,
          viewerMutedUntil: member.mutedUntil,
          viewerRole: member.role,
        }
      : outsiderView(conversation),
  );
}

/** Whether a matching PUBLIC group comes at or before `key` (Relay's hasPreviousPage). */
export async function anyPublicUpTo(
  db: Executor,
  key: PublicKey,
  pattern: string | null,
): Promise<boolean> {
  const rows = await db
    .select({ id: conversations.id })
    .from(conversations)
    .where(and(eq(conversations.visibility, 'PUBLIC'), upToKey(key), matching(pattern)))
    .limit(1);
  return rows.length > 0;
}
