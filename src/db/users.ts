import { eq, sql, type SQL } from 'drizzle-orm';
import {
  arrayLiteral,
  pgArray,
  pgConstraint,
  pgErrorCode,
  prepareOnce,
  UNIQUE_VIOLATION,
  type Executor,
} from './client.js';
import { users, type UserRow } from './schema.js';

/** Which of a user's identifiers another account already holds. */
export type TakenIdentifier = { taken: 'phone' | 'email' };

/** The identifier whose unique key an error broke, if it is one of those. */
function takenIdentifier(err: unknown): TakenIdentifier | null {
  if (pgErrorCode(err) !== UNIQUE_VIOLATION) return null;
  const constraint = pgConstraint(err);
  if (constraint === 'users_phone_key') return { taken: 'phone' };
  if (constraint === 'users_email_key') return { taken: 'email' };
  return null;
}

export async function insertUser(
  db: Executor,
  user: {
    id: string;
    phone: string | null;
    email: string | null;
    displayName: string;
    passwordHash: string;
  },
): Promise<{ user: UserRow } | TakenIdentifier> {
  try {
    const [row] = await db.insert(users).values(user).returning();
    return { user: row! };
  } catch (err) {
    const taken = takenIdentifier(err);
    if (taken) return taken;
    throw err;
  }
}

export async function findUserById(db: Executor, id: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id)).limit(1);
  return row;
}

/** The user with this address in any letter case (the lookup users_email_key serves). */
export async function findUserByEmail(db: Executor, email: string): Promise<UserRow | undefined> {
  const [row] = await db
    .select()
    .from(users)
    .where(sql`lower(${users.email}) = lower(${email})`)
    .limit(1);
  return row;
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

const usersByIds = prepareOnce((db) =>
  db
    .select()
    .from(users)
    .where(sql`${users.id} = any(${sql.placeholder('ids')}::uuid[])`)
    .prepare('users_by_ids'),
);

export function findUsersByIds(db: Executor, ids: readonly string[]): Promise<UserRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return usersByIds(db).execute({ ids: arrayLiteral(ids) });
}

/**
 * Sets what is given, in one statement: a new display name, and a phone or an email only where
 * the account has none yet or has this one already (an address in any letter case; the one
 * stored stays as it is). `differs` when the user exists but holds a different phone or email
 * (nothing is written); undefined when there is no such user.
 */
export async function updateProfileFields(
  db: Executor,
  id: string,
  change: { displayName: string | null; phone: string | null; email: string | null },
): Promise<{ user: UserRow } | TakenIdentifier | { differs: true } | undefined> {
  const set: { displayName?: string; phone?: SQL; email?: SQL } = {};
  if (change.displayName !== null) set.displayName = change.displayName;
  if (change.phone !== null) set.phone = sql`coalesce(${users.phone}, ${change.phone})`;
  if (change.email !== null) set.email = sql`coalesce(${users.email}, ${change.email})`;
  const phoneFits =
    change.phone === null
      ? sql`true`
      : sql`(${users.phone} is null or ${users.phone} = ${change.phone})`;
  const emailFits =
    change.email === null
      ? sql`true`
      : sql`(${users.email} is null or lower(${users.email}) = lower(${change.email}))`;
  try {
    const [row] = await db
      .update(users)
      .set(set)
      .where(sql`${users.id} = ${id} and ${phoneFits} and ${emailFits}`)
      .returning();
    if (row) return { user: row };
  } catch (err) {
    const taken = takenIdentifier(err);
    if (taken) return taken;
    throw err;
  }
  const [exists] = await db.select({ id: users.id }).from(users).where(eq(users.id, id));
  return exists ? { differs: true } : undefined;
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
