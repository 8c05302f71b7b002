// Message ids name a message by its primary key (conversation, seq) in 27 opaque characters, so a
// lookup by id is a primary-key read that stays on the conversation's shard.
import { randomUUID } from 'node:crypto';
import { badInput } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const newId = (): string => randomUUID();

export const isUuid = (value: string): boolean => UUID.test(value);

export interface MessageKey {
  readonly conversationId: string;
  readonly seq: number;
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

// The id is base64url of 20 bytes: the conversation's 16, then the seq's 4 (big-endian). Its
// first 15 bytes are its first 20 characters, the same for every message of a conversation, so
// they are encoded once per conversation (a page has one); the last 5 bytes (40 bits) make the
// last 7 characters (6 bits each, the last padded with 2 zero bits).
let lastConversation = '';
let lastPrefix = '';
let lastByte = 0;

export function encodeMessageId(key: MessageKey): string {
  if (key.conversationId !== lastConversation) {
    const bytes = Buffer.from(key.conversationId.replace(/-/g, ''), 'hex');
    lastPrefix = bytes.subarray(0, 15).toString('base64url');
    lastByte = bytes[15]!;
    lastConversation = key.conversationId;
  }
  const seq = key.seq >>> 0;
  return (
    lastPrefix +
    BASE64URL[lastByte >> 2]! +
    BASE64URL[((lastByte & 3) << 4) | (seq >>> 28)]! +
    BASE64URL[(seq >>> 22) & 63]! +
    BASE64URL[(seq >>> 16) & 63]! +
    BASE64URL[(seq >>> 10) & 63]! +
    BASE64URL[(seq >>> 4) & 63]! +
    BASE64URL[(seq & 15) << 2]!
  );
}

/** The key of a message id, or null when the string is not one. */
export function decodeMessageId(id: string): MessageKey | null {
  if (id.length !== 27 || !/^[A-Za-z0-9_-]+$/.test(id)) return null;
  const bytes = Buffer.from(id, 'base64url');
  if (bytes.length !== 20) return null;
  const hex = bytes.subarray(0, 16).toString('hex');
  const conversationId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const seq = bytes.readUInt32BE(16);
  if (seq < 1 || seq > 2_147_483_647) return null;
  // Base64 leaves spare bits in the last character: accept only the one spelling we issue.
  if (bytes.toString('base64url') !== id) return null;
  return { conversationId, seq };
}

export function parseMessageId(id: string, field = 'messageId'): MessageKey {
  const key = decodeMessageId(id);
  if (!key) throw badInput(`"${id.slice(0, 40)}" is not a message id.`, field);
  return key;
}
