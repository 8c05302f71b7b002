// Who blocked whom (user_blocks).
import { and, desc, eq, sql } from 'drizzle-orm';
import { pgArray, queryRows, type Executor } from './client.js';
import { userBlocks, users, type UserRow } from './schema.js';

/** Blocks; false when it was blocked already. */
export async function insertBlock(
  db: Executor,
  blockerId: string,
  blockedId: string,
): Promise<boolean> {
  const rows = await db
    .insert(userBlocks)
    .values({ blockerId, blockedId })
    .onConflictDoNothing()
    .returning({ blockedId: userBlocks.blockedId });
  return rows.length > 0;
}

/** Unblocks; false when it was not blocked. */
export async function deleteBlock(
  db: Executor,
  blockerId: string,
  blockedId: string,
): Promise<boolean> {
  const rows = await db
    .delete(userBlocks)
    .where(and(eq(userBlocks.blockerId, blockerId), eq(userBlocks.blockedId, blockedId)))
    .returning({ blockedId: userBlocks.blockedId });
  return rows.length > 0;
}

/** The users `blockerId` blocked, the most recent first. */
export async function listBlockedUsers(db: Executor, blockerId: string): Promise<UserRow[]> {
  const rows = await db
    .select({ user: users })
    .from(userBlocks)
    .innerJoin(users, eq(users.id, userBlocks.blockedId))
    .where(eq(userBlocks.blockerId, blockerId))
    .orderBy(desc(userBlocks.createdAt));
  return rows.map((r) => r.user);
}

/** Of `userIds`, those `blockerId` blocked. */
export async function blockedAmong(
  db: Executor,
  blockerId: string,
  userIds: readonly string[],
): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await queryRows<{ blocked_id: string }>(
    db,
    sql`select blocked_id from user_blocks
         where blocker_id = ${blockerId}::uuid
           and blocked_id = any(${pgArray(userIds, 'uuid')})`,
  );
  return new Set(rows.map((r) => r.blocked_id));
}

export async function hasBlocked(
  db: Executor,
  blockerId: string,
  blockedId: string,
): Promise<boolean> {
  return (await blockedAmong(db, blockerId, [blockedId])).has(blockedId);
}
