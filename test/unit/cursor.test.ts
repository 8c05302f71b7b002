import { randomUUID } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import {
  decodeConversationCursor,
  decodeMessageCursor,
  encodeConversationCursor,
  encodeMessageCursor,
} from '../../src/domain/cursor.js';
import { expectBadInput } from './domain-error.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
const MAX_SEQ = 2_147_483_647;

describe('message cursors', () => {
  it.each([1, 2, 42, 1_000, 65_536, 123_456_789, MAX_SEQ])('round-trips seq %i', (seq) => {
    expect(decodeMessageCursor(encodeMessageCursor(seq))).toBe(seq);
  });

  it('are opaque, URL-safe strings that differ per seq', () => {
    const cursors = [1, 2, 10, 12_345].map(encodeMessageCursor);
    for (const cursor of cursors) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(encodeMessageCursor(12_345)).not.toContain('12345');
    expect(new Set(cursors).size).toBe(cursors.length);
  });

  it.each([
    ['empty', ''],
    ['garbage with punctuation', 'not a cursor!'],
    ['percent signs', '%%%%'],
    ['the plain, unencoded text', 'm1:5'],
    ['an overlong string', 'A'.repeat(500)],
    ['base64 of other text', b64('hello world')],
    ['base64 of a number alone', b64('5')],
    ['a wrong prefix', b64('m2:5')],
    ['a prefix without a seq', b64('m1:')],
    ['a negative seq', b64('m1:-1')],
    ['a fractional seq', b64('m1:1.5')],
    ['letters for a seq', b64('m1:abc')],
    ['a seq followed by junk', b64('m1:5x')],
    ['a seq with a trailing newline', b64('m1:5\n')],
    ['a seq just above the 32-bit range', b64('m1:2147483648')],
    ['a huge seq', b64('m1:99999999999999999999')],
    ['an exponent', b64('m1:1e9')],
    ['a conversation cursor', encodeConversationCursor({ updatedAtMs: 1, id: randomUUID() })],
  ])('rejects %s with BAD_USER_INPUT', (_label, cursor) => {
    expectBadInput(() => decodeMessageCursor(cursor), 'after');
  });

  it('names the argument the cursor came in', () => {
    expectBadInput(() => decodeMessageCursor('garbage!', 'before'), 'before');
  });
});

describe('conversation cursors', () => {
  it('round-trips the sort key', () => {
    const key = { updatedAtMs: Date.parse('2024-05-01T12:34:56.789Z'), id: randomUUID() };
    expect(decodeConversationCursor(encodeConversationCursor(key))).toEqual(key);
  });

  it('round-trips the epoch and many random ids', () => {
    for (let i = 0; i < 50; i++) {
      const key = { updatedAtMs: i === 0 ? 0 : Math.floor(Math.random() * 4e12), id: randomUUID() };
      expect(decodeConversationCursor(encodeConversationCursor(key))).toEqual(key);
    }
  });

  it('are opaque, URL-safe strings that differ per conversation and time', () => {
    const id = randomUUID();
    const a = encodeConversationCursor({ updatedAtMs: 1_700_000_000_000, id });
    const b = encodeConversationCursor({ updatedAtMs: 1_700_000_000_001, id });
    const c = encodeConversationCursor({ updatedAtMs: 1_700_000_000_000, id: randomUUID() });
    for (const cursor of [a, b, c]) {
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(cursor).not.toContain(id);
    }
    expect(new Set([a, b, c]).size).toBe(3);
  });

  const id = randomUUID();
  it.each([
    ['empty', ''],
    ['garbage', '***'],
    ['base64 of other text', b64('hello world')],
    ['a message cursor', encodeMessageCursor(5)],
    ['a wrong prefix', b64(`c2:1700000000000:${id}`)],
    ['a missing time', b64(`c1::${id}`)],
    ['letters for a time', b64(`c1:abc:${id}`)],
    ['a negative time', b64(`c1:-5:${id}`)],
    ['a huge time', b64(`c1:${'9'.repeat(30)}:${id}`)],
    ['a missing id', b64('c1:1700000000000:')],
    ['an id that is not a uuid', b64('c1:1700000000000:not-a-uuid')],
    ['an id with junk after it', b64(`c1:1700000000000:${id}x`)],
    ['an id followed by another field', b64(`c1:1700000000000:${id}:extra`)],
  ])('rejects %s with BAD_USER_INPUT', (_label, cursor) => {
    expectBadInput(() => decodeConversationCursor(cursor), 'after');
  });

  it('names the argument the cursor came in', () => {
    expectBadInput(() => decodeConversationCursor(encodeMessageCursor(1), 'before'), 'before');
  });
});
