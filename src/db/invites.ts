// Invite codes and joining a group. A code is looked up by itself (its primary key); every
// change to a group's invites or members is made under the group's row lock (conversations
// first, then invites), so the count of working invites and the member count are decided on
// what the previous change left.
import { and, eq, getTableColumns, isNull, sql } from 'drizzle-orm';
import type { Executor } from './client.js';
import type { MemberRole } from './conversations.js';
import {
  conversationMembers,
  conversations,
  invites,
  type ConversationRow,
  type InviteRow,
} from './schema.js';

/** Whether an invite still lets someone in (not revoked, not expired, not used up), in SQL. */
const working = sql`${invites.revokedAt} is null
  and (${invites.expiresAt} is null or ${invites.expiresAt} > now())
  and (${invites.usesLeft} is null or ${invites.usesLeft} > 0)`;

export async function insertInvite(
  db: Executor,
  row: {
    code: string;
    conversationId: string;
    createdBy: string;
    expiresAt: Date | null;
    usesLeft: number | null;
  },
): Promise<InviteRow> {
  const [inserted] = await db.insert(invites).values(row).returning();
  return inserted!;
}

/** Invites of a group that still work (under the group's lock, to cap them). */
export async function countWorkingInvites(db: Executor, conversationId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(invites)
    .where(and(eq(invites.conversationId, conversationId), working));
  return Number(row?.n ?? 0);
}

/** The group an invite code belongs to, whatever the code's state; undefined: no such code. */
export async function findInviteConversationId(
  db: Executor,
  code: string,
): Promise<string | undefined> {
  const [row] = await db
    .select({ conversationId: invites.conversationId })
    .from(invites)
    .where(eq(invites.code, code));
  return row?.conversationId;
}

/** Revokes a code; false when it was revoked already (or does not exist). */
export async function revokeInviteCode(db: Executor, code: string): Promise<boolean> {
  const rows = await db
    .update(invites)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(invites.code, code), isNull(invites.revokedAt)))
    .returning({ code: invites.code });
  return rows.length === 1;
}

/**
 * Uses up one join of a working code in one statement, so concurrent joins with a code of N
 * uses admit exactly N; returns its group, or undefined when the code is unknown, revoked,
 * expired or used up (one answer for all four).
 */
export async function consumeInvite(db: Executor, code: string): Promise<string | undefined> {
  // UPDATE invites SET uses_left = uses_left - 1 WHERE code = $1 AND <working> RETURNING
  // conversation_id: a null uses_left (any number) stays null.
  const [row] = await db
    .update(invites)
    .set({ usesLeft: sql`${invites.usesLeft} - 1` })
    .where(and(eq(invites.code, code), working))
    .returning({ conversationId: invites.conversationId });
  return row?.conversationId;
}

/**
 * Locks a conversation row for a join (like lockConversationForRole, but for anyone): the row
 * with the caller's role, null when they are not a member; undefined when there is no such
 * conversation.
 */
export async function lockConversationForJoin(
  db: Executor,
  conversationId: string,
  userId: string,
): Promise<(ConversationRow & { role: MemberRole | null }) | undefined> {
  const [row] = await db
    .select({ ...getTableColumns(conversations), role: conversationMembers.role })
    .from(conversations)
    .leftJoin(
      conversationMembers,
      and(
        eq(conversationMembers.conversationId, conversations.id),
        eq(conversationMembers.userId, userId),
      ),
    )
    .where(eq(conversations.id, conversationId))
    .for('update', { of: conversations });
  return row;
}
