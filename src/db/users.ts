import { eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from './client.js';
import { users, type UserRow } from './schema.js';

export async function insertUser(
  db: Executor,
  user: { id: string; phone: string; displayName: string; passwordHash: string },
): Promise<UserRow> {
  const [row] = await db.insert(users).values(user).returning();
  return row!;
}

export async function findUserByPhone(db: Executor, phone: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.phone, phone)).limit(1);
  return row;
}

export function findUsersByPhones(db: Executor, phones: readonly string[]): Promise<UserRow[]> {
  if (phones.length === 0) return Promise.resolve([]);
  return db
    .select()
    .from(users)
    .where(inArray(users.phone, [...phones]));
}

export function findUsersByIds(db: Executor, ids: readonly string[]): Promise<UserRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .select()
    .from(users)
    .where(inArray(users.id, [...ids]));
}

export async function updateDisplayName(
  db: Executor,
  id: string,
  displayName: string,
): Promise<UserRow | undefined> {
  const [row] = await db.update(users).set({ displayName }).where(eq(users.id, id)).returning();
  return row;
}

/** Stores when users were last seen, each with their own time. */
export async function setLastSeen(
  db: Executor,
  rows: readonly { userId: string; at: Date }[],
): Promise<void> {
  if (rows.length === 0) return;
  const values = sql.join(
    rows.map((r) => sql`(${r.userId}::uuid, ${r.at.toISOString()}::timestamptz)`),
    sql`, `,
  );
  await db.execute(
    sql`update users set last_seen_at = v.at from (values ${values}) as v(id, at) where users.id = v.id`,
  );
}
