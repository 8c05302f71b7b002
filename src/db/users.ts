import { eq, sql } from 'drizzle-orm';
import { pgArray, type Executor } from './client.js';
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
    .where(sql`${users.phone} = any(${pgArray(phones, 'text')})`);
}

export function findUsersByIds(db: Executor, ids: readonly string[]): Promise<UserRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .select()
    .from(users)
    .where(sql`${users.id} = any(${pgArray(ids, 'uuid')})`);
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
  const ids = pgArray(
    rows.map((r) => r.userId),
    'uuid',
  );
  const times = pgArray(
    rows.map((r) => r.at.toISOString()),
    'timestamptz',
  );
  await db.execute(
    sql`update users set last_seen_at = v.at from unnest(${ids}, ${times}) as v(id, at) where users.id = v.id`,
  );
}
