import { and, asc, desc, eq, gt, lt, sql } from 'drizzle-orm';
import type { Executor } from './client.js';
import { conversations, messages, type MessageRow } from './schema.js';

export interface MessageKey {
  conversationId: string;
  seq: number;
}

export async function findMessage(db: Executor, key: MessageKey): Promise<MessageRow | undefined> {
  const [row] = await db
    .select()
    .from(messages)
    .where(and(eq(messages.conversationId, key.conversationId), eq(messages.seq, key.seq)));
  return row;
}

export function findMessagesByKeys(
  db: Executor,
  keys: readonly MessageKey[],
): Promise<MessageRow[]> {
  if (keys.length === 0) return Promise.resolve([]);
  const list = sql.join(
    keys.map((k) => sql`(${k.conversationId}::uuid, ${k.seq}::int)`),
    sql`, `,
  );
  return db
    .select()
    .from(messages)
    .where(sql`(${messages.conversationId}, ${messages.seq}) in (${list})`);
}

export async function findByClientMessageId(
  db: Executor,
  conversationId: string,
  senderId: string,
  clientMessageId: string,
): Promise<MessageRow | undefined> {
  const [row] = await db
    .select()
    .from(messages)
    .where(
      and(
        eq(messages.conversationId, conversationId),
        eq(messages.senderId, senderId),
        eq(messages.clientMessageId, clientMessageId),
      ),
    );
  return row;
}

/** Takes the next seq of a conversation and marks it active. Call with the row locked. */
export async function nextSeq(
  db: Executor,
  conversationId: string,
): Promise<{ seq: number; at: Date }> {
  const [row] = await db
    .update(conversations)
    .set({
      lastSeq: sql`${conversations.lastSeq} + 1`,
      updatedAt: sql`greatest(now(), ${conversations.updatedAt})`,
    })
    .where(eq(conversations.id, conversationId))
    .returning({ seq: conversations.lastSeq, at: conversations.updatedAt });
  return row!;
}

export async function insertMessage(
  db: Executor,
  row: {
    conversationId: string;
    seq: number;
    senderId: string;
    body: string;
    clientMessageId: string | null;
    createdAt: Date;
  },
): Promise<MessageRow> {
  const [inserted] = await db.insert(messages).values(row).returning();
  return inserted!;
}

export async function updateMessage(
  db: Executor,
  key: MessageKey,
  change: { body: string | null; editedAt?: Date; deletedAt?: Date },
): Promise<MessageRow | undefined> {
  const [row] = await db
    .update(messages)
    .set(change)
    .where(and(eq(messages.conversationId, key.conversationId), eq(messages.seq, key.seq)))
    .returning();
  return row;
}

export interface MessagePageQuery {
  direction: 'forward' | 'backward';
  limit: number;
  afterSeq: number | null;
  beforeSeq: number | null;
}

/** Messages of a conversation within (afterSeq, beforeSeq), oldest → newest. */
export async function listMessages(
  db: Executor,
  conversationId: string,
  q: MessagePageQuery,
): Promise<MessageRow[]> {
  const forward = q.direction === 'forward';
  const rows = await db
    .select()
    .from(messages)
    .where(
      and(
        eq(messages.conversationId, conversationId),
        q.afterSeq !== null ? gt(messages.seq, q.afterSeq) : undefined,
        q.beforeSeq !== null ? lt(messages.seq, q.beforeSeq) : undefined,
      ),
    )
    .orderBy(forward ? asc(messages.seq) : desc(messages.seq))
    .limit(q.limit);
  return forward ? rows : rows.reverse();
}
