// Rows of the per-conversation tables, which are partitioned by conversation_id (drizzle/0016),
// found by (conversation_id, key) pairs. When every pair is of one conversation (a history page's
// reactions or edits, the outbox row of one send) the statement names the conversation as one
// value: PostgreSQL then reads one partition whether it plans for the values or generically (a
// prepared statement's generic plan prunes partitions by a plain parameter when it starts, but
// not by the elements of an array parameter). Pairs of several conversations go as two arrays.
import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { pairIn, pgArray } from './client.js';

type ArrayType = Parameters<typeof pgArray>[1];

export function conversationPairIn<T>(
  columns: readonly [conversationId: SQLWrapper, key: SQLWrapper],
  pairs: readonly T[],
  conversationOf: (pair: T) => string,
  key: readonly [(pair: T) => string | number, ArrayType],
): SQL {
  const [conversationId, keyColumn] = columns;
  const conversations = new Set(pairs.map(conversationOf));
  if (conversations.size === 1) {
    const [only] = conversations;
    return sql`${conversationId} = ${only}::uuid and ${keyColumn} = any(${pgArray(pairs.map(key[0]), key[1])})`;
  }
  return pairIn(columns, pairs, [conversationOf, 'uuid'], key);
}
