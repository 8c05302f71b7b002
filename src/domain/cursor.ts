// Opaque cursors. A message cursor encodes its seq (never a timestamp: seq is the order);
// a conversation cursor encodes the list's sort key (latest activity, then id).
import { badInput } from './errors.js';

const MESSAGE_PREFIX = 'm1:';
const CONVERSATION_PREFIX = 'c1:';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const encode = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

export function decode(cursor: string): string | null {
  if (cursor.length === 0 || cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  return Buffer.from(cursor, 'base64url').toString('utf8');
}

export const invalidCursor = (field: string) =>
  badInput(
    `"${field}" is not a cursor returned by this API; use an edge's cursor or pageInfo.`,
    field,
  );

export function encodeMessageCursor(seq: number): string {
  return encode(MESSAGE_PREFIX + seq);
}

export function decodeMessageCursor(cursor: string, field = 'after'): number {
  const text = decode(cursor);
  const match = text?.startsWith(MESSAGE_PREFIX) ? /^\d{1,10}$/.exec(text.slice(3)) : null;
  const seq = match ? Number(match[0]) : NaN;
  if (!Number.isSafeInteger(seq) || seq > 2_147_483_647) throw invalidCursor(field);
  return seq;
}

export interface ConversationCursor {
  /** updated_at in epoch milliseconds */
  readonly updatedAtMs: number;
  readonly id: string;
}

export function encodeConversationCursor(c: ConversationCursor): string {
  return encode(`${CONVERSATION_PREFIX}${c.updatedAtMs}:${c.id}`);
}

export function decodeConversationCursor(cursor: string, field = 'after'): ConversationCursor {
  const text = decode(cursor);
  const match = text ? /^c1:(\d{1,15}):(.+)$/.exec(text) : null;
  // A time PostgreSQL can represent as written: up to the end of the year 9999.
  if (!match || !UUID.test(match[2]!) || Number(match[1]) > 253_402_300_799_999) {
    throw invalidCursor(field);
  }
  return { updatedAtMs: Number(match[1]), id: match[2]! };
}
