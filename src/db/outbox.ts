import { sql } from 'drizzle-orm';
import { queryRows, type Executor } from './client.js';
import { conversationPairIn } from './conversation-keys.js';
import { outbox } from './schema.js';

export interface OutboxEntry {
  conversationId: string;
  /** JSON of an OutboxRecord (domain/events.ts). */
  payload: string;
}

/** A row as the drainer claims it; `topic` is set only on rows written before drizzle/0007. */
export type ClaimedOutboxRow = OutboxEntry & { id: number; topic: string | null };

export interface OutboxKey {
  conversationId: string;
  id: number;
}

export async function insertOutbox(
  db: Executor,
  entries: readonly OutboxEntry[],
): Promise<OutboxKey[]> {
  if (entries.length === 0) return [];
  return db
    .insert(outbox)
    .values([...entries])
    .returning({ conversationId: outbox.conversationId, id: outbox.id });
}

export async function deleteOutbox(db: Executor, keys: readonly OutboxKey[]): Promise<void> {
  if (keys.length === 0) return;
  await db.execute(
    sql`delete from outbox where ${conversationPairIn(
      [outbox.conversationId, outbox.id],
      keys,
      (k) => k.conversationId,
      [(k) => k.id, 'bigint'],
    )}`,
  );
}

/** Rows older than `olderThanMs`, oldest first, locked so that one drainer takes each. */
export function claimStaleOutbox(
  db: Executor,
  olderThanMs: number,
  limit: number,
): Promise<ClaimedOutboxRow[]> {
  return queryRows(
    db,
    sql`select conversation_id as "conversationId", id::int8 as id, topic, payload
          from outbox
         where created_at < now() - make_interval(secs => ${olderThanMs / 1000})
         order by created_at, id
         limit ${limit}
         for update skip locked`,
  ).then((rows) =>
    (rows as (ClaimedOutboxRow & { id: number | string })[]).map((r) => ({
      ...r,
      id: Number(r.id),
    })),
  );
}

export async function countOutbox(db: Executor): Promise<number> {
  const [row] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from outbox`);
  return row?.n ?? 0;
}
