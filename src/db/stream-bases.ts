import { and, eq, lt, sql } from 'drizzle-orm';
import type { Executor } from './client.js';
import { streamBases } from './schema.js';

/** Saves where a stream stood: a position per conversation. */
export async function insertStreamBase(
  db: Executor,
  row: { id: string; userId: string; positions: ReadonlyMap<string, number> },
): Promise<void> {
  await db.insert(streamBases).values({
    id: row.id,
    userId: row.userId,
    positions: JSON.stringify(Object.fromEntries(row.positions)),
  });
}

/** A saved position set of this user (undefined: unknown, expired, or someone else's). */
export async function findStreamBase(
  db: Executor,
  id: string,
  userId: string,
): Promise<Map<string, number> | undefined> {
  const [row] = await db
    .select({ positions: streamBases.positions })
    .from(streamBases)
    .where(and(eq(streamBases.id, id), eq(streamBases.userId, userId)));
  if (!row) return undefined;
  return new Map(Object.entries(JSON.parse(row.positions) as Record<string, number>));
}

/** Forgets position sets older than `maxAgeMs`; returns how many. */
export async function deleteStreamBasesOlderThan(db: Executor, maxAgeMs: number): Promise<number> {
  const rows = await db
    .delete(streamBases)
    .where(lt(streamBases.createdAt, sql`now() - make_interval(secs => ${maxAgeMs / 1000})`))
    .returning({ id: streamBases.id });
  return rows.length;
}
